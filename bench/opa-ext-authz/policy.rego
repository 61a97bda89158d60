# The bench's JWT policy for the OPA reference: what jwtexchange's inbound check does for one
# issuer — a Bearer token, ES256 signature against the issuer's JWKS, iss, aud and exp — and, on
# success, the caller's identity as upstream headers.
package envoy.authz

import rego.v1

default allow := {"allowed": false}

bearer := t if {
	auth := input.attributes.request.http.headers.authorization
	startswith(auth, "Bearer ")
	t := substring(auth, 7, -1)
}

verified := [valid, payload] if {
	[valid, _, payload] := io.jwt.decode_verify(bearer, {
		"cert": data.jwks,
		"iss": data.issuer,
		"aud": data.audience,
		"alg": "ES256",
	})
}

allow := {"allowed": true, "headers": {
	"x-jwtauth-subject": verified[1].sub,
	"x-jwtauth-issuer": verified[1].iss,
}} if verified[0]
