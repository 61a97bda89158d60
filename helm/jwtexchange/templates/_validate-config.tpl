{{/*
Cross-field rules between jwtexchange.config and the rest of the values: combinations that render
but cannot work in the pod (a crash loop, a pod that never gets ready, or 403 on every saga call)
fail here, naming the value to fix. values.schema.json checks the shapes; `jwtexchange config
check` checks the rendered config itself (docs/operations.md, "Check the rendered config").
*/}}
{{- define "jwtexchange.validateConfig" -}}
{{- $c := .Values.jwtexchange.config | default dict -}}
{{- include "jwtexchange.validateIssuers" $c }}
{{- include "jwtexchange.validateRouteAudiences" . }}
{{- include "jwtexchange.validateFiles" . }}
{{- include "jwtexchange.validateTransport" . }}
{{- with ($c.spicedb | default dict).presharedKeyEnv }}
{{- $names := list }}
{{- range $.Values.jwtexchange.env }}{{ $names = append $names .name }}{{ end }}
{{- if not (has . $names) }}
{{- fail (printf "jwtexchange.config.spicedb.presharedKeyEnv is %s, but jwtexchange.env sets no such variable: jwtexchange would not start. Add it to jwtexchange.env (e.g. from a Secret with valueFrom.secretKeyRef)" .) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Every inbound issuer needs exactly one key source and at least one audience. */}}
{{- define "jwtexchange.validateIssuers" -}}
{{- range $i, $iss := (.inbound | default dict).issuers | default list }}
{{- $at := printf "jwtexchange.config.inbound.issuers[%d] (%s)" $i ($iss.issuer | default "no issuer") }}
{{- if not (or (and $iss.jwksUri (not $iss.jwksFile)) (and $iss.jwksFile (not $iss.jwksUri))) }}
{{- fail (printf "%s: set exactly one of jwksUri or jwksFile (where the issuer's signing keys come from); without one no token of it can be verified" $at) }}
{{- end }}
{{- if not $iss.audiences }}
{{- fail (printf "%s: audiences is empty; list the aud values this gateway accepts (e.g. [gateway])" $at) }}
{{- end }}
{{- end }}
{{- end }}

{{/* A saga-tagged route asks for an audience (and scope) the sidecar must allow. */}}
{{- define "jwtexchange.validateRouteAudiences" -}}
{{- $out := (.Values.jwtexchange.config | default dict).outbound | default dict -}}
{{- $allowed := dict -}}
{{- range $out.audiences | default list }}{{ $_ := set $allowed (toString .audience) (.scopes | default list) }}{{ end }}
{{- range $u, $up := .Values.envoy.egress.upstreams }}
{{- range $r, $route := $up.routes | default list }}
{{- if $route.audience }}
{{- $at := printf "envoy.egress.upstreams[%d] (%s) routes[%d]" $u $up.name $r }}
{{- if not $out }}
{{- fail (printf "%s asks for a service token for audience %q, but jwtexchange.config has no outbound section: every saga call on it would be denied (audience_not_allowed). Configure jwtexchange.config.outbound (tokenExchange and audiences)" $at $route.audience) }}
{{- end }}
{{- if not (hasKey $allowed (toString $route.audience)) }}
{{- fail (printf "%s asks for audience %q, which jwtexchange.config.outbound.audiences does not list: every saga call on it would be denied (audience_not_allowed). Add {audience: %s} there" $at $route.audience $route.audience) }}
{{- end }}
{{- if and $route.scope (not (has $route.scope (get $allowed (toString $route.audience)))) }}
{{- fail (printf "%s asks for scope %q, which jwtexchange.config.outbound.audiences lists no scope %q for audience %q (audience_not_allowed). Add it to that audience's scopes" $at $route.scope $route.scope $route.audience) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Every file the config names must be in a volume the jwtexchange container mounts: the TLS Secret
at tls.mountPath (only with tls.enabled) or a jwtexchange.extraVolumeMounts entry.
*/}}
{{- define "jwtexchange.validateFiles" -}}
{{- $c := .Values.jwtexchange.config | default dict -}}
{{- $files := list -}}
{{- range $i, $iss := ($c.inbound | default dict).issuers | default list }}
{{- range $k := list "jwksFile" "jwksCaFile" }}
{{- with get $iss $k }}{{ $files = append $files (list (printf "inbound.issuers[%d].%s" $i $k) .) }}{{ end }}
{{- end }}
{{- end }}
{{- $te := ($c.outbound | default dict).tokenExchange | default dict }}
{{- range $k := list "certFile" "keyFile" "caFile" }}
{{- with get $te $k }}{{ $files = append $files (list (printf "outbound.tokenExchange.%s" $k) .) }}{{ end }}
{{- end }}
{{- $s := $c.spicedb | default dict }}
{{- range $k := list "caFile" "presharedKeyFile" }}
{{- with get $s $k }}{{ $files = append $files (list (printf "spicedb.%s" $k) .) }}{{ end }}
{{- end }}
{{- $tls := trimSuffix "/" .Values.tls.mountPath }}
{{- range $files }}
{{- $setting := index . 0 }}
{{- $file := index . 1 | toString }}
{{- $mounted := false }}
{{- range $.Values.jwtexchange.extraVolumeMounts }}
{{- $m := trimSuffix "/" (toString .mountPath) }}
{{- if or (eq $file $m) (hasPrefix (printf "%s/" $m) $file) }}{{ $mounted = true }}{{ end }}
{{- end }}
{{- $inTls := hasPrefix (printf "%s/" $tls) $file }}
{{- if and $inTls $.Values.tls.enabled }}{{ $mounted = true }}{{ end }}
{{- if and (not $mounted) $inTls }}
{{- fail (printf "jwtexchange.config.%s is %s, under tls.mountPath, but tls.enabled=false: nothing is mounted there and jwtexchange would never get ready. Set tls.enabled=true with tls.secretName (a Secret with tls.crt, tls.key, ca.crt) or tls.certManager" $setting $file) }}
{{- else if not $mounted }}
{{- fail (printf "jwtexchange.config.%s is %s, which no volume of the jwtexchange container holds: put it under tls.mountPath (%s, with tls.enabled=true) or mount it with jwtexchange.extraVolumes and extraVolumeMounts" $setting $file $tls) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
checkTransport http: the HTTP check port must be free in the container, and Envoy's check timeout
must fit server.httpCheckTimeoutMs (1 ms to 60 s), which the chart derives from it.
*/}}
{{- define "jwtexchange.validateTransport" -}}
{{- $j := .Values.jwtexchange -}}
{{- if include "jwtexchange.httpTransport" . }}
{{- range $name := list "grpcPort" "httpPort" }}
{{- if eq (int (get $j $name)) (int $j.httpCheckPort) }}
{{- fail (printf "jwtexchange.httpCheckPort and jwtexchange.%s are both %d: jwtexchange cannot listen twice on one port and would not start. Give httpCheckPort a port of its own" $name (int $j.httpCheckPort)) }}
{{- end }}
{{- end }}
{{- $ms := include "jwtexchange.httpCheckTimeoutMs" . | int }}
{{- if or (lt $ms 1) (gt $ms 60000) }}
{{- fail (printf "with jwtexchange.checkTransport http, jwtexchange's server.httpCheckTimeoutMs is set from envoy.extAuthzTimeout and envoy.egress.extAuthzTimeout (the longer, %d ms here), and it must be 1 ms to 60 s: jwtexchange would not start. Set both timeouts within that range" $ms) }}
{{- end }}
{{- end }}
{{- end }}
