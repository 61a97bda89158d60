{{/*
The Envoy bootstrap: an ingress listener (every request is checked inbound), an egress listener
(outbound requests; saga-tagged routes get a service token), a health listener (/ready and
/stats/prometheus from the loopback admin interface) and their clusters. The shape follows
envoy/ingress.yaml, or envoy/ingress-http.yaml with jwtexchange.checkTransport http; the chart
tests run the result through `envoy --mode validate`.
*/}}
{{- define "jwtexchange.envoyConfig" -}}
{{- $e := .Values.envoy -}}
# File-based SDS (TLS material) needs a node identity.
node:
  id: {{ include "jwtexchange.fullname" . }}
  cluster: {{ include "jwtexchange.fullname" . }}
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: {{ int $e.adminPort }} }
static_resources:
  listeners:
    {{- if $e.ingress.enabled }}
    {{- include "jwtexchange.envoyIngressListener" . | nindent 4 }}
    {{- end }}
    {{- if $e.egress.enabled }}
    {{- include "jwtexchange.envoyEgressListener" . | nindent 4 }}
    {{- end }}
    {{- include "jwtexchange.envoyHealthListener" . | nindent 4 }}
  clusters:
    {{- include "jwtexchange.envoyLocalClusters" . | nindent 4 }}
    {{- if $e.egress.enabled }}
    {{- range $e.egress.upstreams }}
    {{- include "jwtexchange.envoyUpstreamCluster" (dict "u" . "ctx" $) | nindent 4 }}
    {{- end }}
    {{- end }}
{{- end }}

{{/*
The ext_authz filter; fails closed (an unreachable jwtexchange is a 503, never an allow).
Call with (dict "timeout" … "direction" inbound|outbound "ctx" $).
*/}}
{{- define "jwtexchange.envoyExtAuthzFilter" -}}
{{- if include "jwtexchange.httpTransport" .ctx -}}
{{ include "jwtexchange.envoyExtAuthzHttpFilter" . }}
{{- else -}}
- name: envoy.filters.http.ext_authz
  typed_config:
    '@type': type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
    transport_api_version: V3
    grpc_service:
      envoy_grpc: { cluster_name: jwtexchange }
      timeout: {{ .timeout }}
      # Checks that could not reach jwtexchange are tried again within the timeout. Envoy uses
      # max_interval as the per-try timeout too: equal to the timeout, no check is cut short.
      retry_policy:
        retry_on: connect-failure,refused-stream,reset,unavailable
        num_retries: 3
        retry_back_off: { base_interval: 0.025s, max_interval: {{ .timeout }} }
    failure_mode_allow: false
    status_on_error: { code: ServiceUnavailable }
    include_peer_certificate: false
{{- end }}
{{- end }}

{{/*
ext_authz in HTTP mode (envoy/ingress-http.yaml): each check is a plain HTTP/1.1 request to
server.httpCheckAddress carrying the headers allowed_headers lists; allowed_upstream_headers and
allowed_client_headers pick what of the answer Envoy uses. Call like envoyExtAuthzFilter.
*/}}
{{- define "jwtexchange.envoyExtAuthzHttpFilter" -}}
- name: envoy.filters.http.ext_authz
  typed_config:
    '@type': type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
    transport_api_version: V3
    http_service:
      server_uri:
        uri: http://127.0.0.1:{{ int .ctx.Values.jwtexchange.httpCheckPort }}
        cluster: jwtexchange
        # Sent with each check (x-envoy-expected-rq-timeout-ms); jwtexchange answers before
        # it. Its server.httpCheckTimeoutMs, for a check without it, is the longer timeout.
        timeout: {{ .timeout }}
      # Checks that could not reach jwtexchange (refused, or the connection closed under them)
      # are tried again within the timeout; answers, 5xx denials included, are never retried.
      # Envoy uses max_interval as the per-try timeout: equal to the timeout, no check is cut short.
      retry_policy:
        retry_on: connect-failure,reset
        num_retries: 3
        retry_back_off: { base_interval: 0.025s, max_interval: {{ .timeout }} }
      authorization_response:
        # Allowed: what jwtexchange sets on the request ({{ if eq .direction "inbound" }}the verified identity and, after an
        # exchange, {{ end }}the authorization header).
        allowed_upstream_headers:
          patterns:
            {{- if eq .direction "inbound" }}
            - prefix: x-jwtauth-
            {{- end }}
            - exact: authorization
        # Denied: the reason and the body's type (Envoy adds www-authenticate itself). A 5xx
        # answer is an ext_authz error: the client gets status_on_error, without these.
        allowed_client_headers:
          patterns:
            - exact: x-jwtauth-reason
            - exact: content-type
    # Every header jwtexchange reads besides :method, :path, host and authorization (always
    # sent): the route's settings, content-type (gRPC callers get gRPC denials), the request id
    # for its logs{{ if eq .direction "inbound" }}, the headers authorization rules read and client-sent x-jwtauth-* (removed
    # from every inbound request){{ else }}, the saga id and the when-header route tags{{ end }}.
    allowed_headers:
      patterns:
        {{- range include "jwtexchange.envoyCheckHeaders" . | fromJsonArray }}
        - { {{ index . 0 }}: {{ index . 1 }} }
        {{- end }}
    # Fail closed: if jwtexchange is down, nobody gets in.
    failure_mode_allow: false
    status_on_error: { code: ServiceUnavailable }
{{- end }}

{{/*
The headers an HTTP-mode check sends jwtexchange, as a JSON list of [matcher, name]. Call with
(dict "direction" inbound|outbound "ctx" $).
*/}}
{{- define "jwtexchange.envoyCheckHeaders" -}}
{{- $c := .ctx.Values.jwtexchange.config | default dict -}}
{{- $names := list "x-jwtexchange-route" "content-type" "x-request-id" -}}
{{- if eq .direction "inbound" }}
{{- $authz := $c.authorization | default dict }}
{{- $names = append $names ($authz.zedTokenHeader | default "x-spicedb-zedtoken") }}
{{- range $authz.rules | default list }}
{{- with ((.resource | default dict).id | default dict).header }}{{ $names = append $names . }}{{ end }}
{{- end }}
{{- else }}
{{- range .ctx.Values.envoy.egress.upstreams }}
{{- range .routes | default list }}
{{- if .delegation }}
{{- $names = append $names (((($c.outbound | default dict).delegation | default dict).sagaIdHeader) | default "x-saga-id") }}
{{- end }}
{{- with .whenHeader }}{{ $names = append $names . }}{{ end }}
{{- end }}
{{- end }}
{{- end }}
{{- $patterns := list }}
{{- range uniq $names }}{{ $patterns = append $patterns (list "exact" (lower .)) }}{{ end }}
{{- if eq .direction "inbound" }}{{ $patterns = append $patterns (list "prefix" "x-jwtauth-") }}{{ end }}
{{- toJson $patterns }}
{{- end }}

{{/*
One path for routes, authorization rules and the app (docs/security.md): dot segments resolved,
`//` merged, %2F / %5C rejected with 400 before any filter runs. Every listener sets it.
*/}}
{{- define "jwtexchange.envoyPathNormalization" -}}
normalize_path: true
merge_slashes: true
path_with_escaped_slashes_action: REJECT_REQUEST
{{- end }}

{{- define "jwtexchange.envoyRouterFilter" -}}
- name: envoy.filters.http.router
  typed_config:
    '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
{{- end }}

{{/*
Per-route settings of the check: context extensions (gRPC), or the same keys and values
form-encoded in the x-jwtexchange-route request header (HTTP). Call with (dict "ext" … "ctx" $).
*/}}
{{- define "jwtexchange.envoyRouteSettings" -}}
{{- if include "jwtexchange.httpTransport" .ctx -}}
{{ include "jwtexchange.envoyRouteHeader" .ext }}
{{- else -}}
{{ include "jwtexchange.envoyCheckSettings" .ext }}
{{- end }}
{{- end }}

{{/*
The route header. The listener's header_mutation removed any client-sent copy before this runs
(Envoy applies a filter's own mutations first, then the route's), so only the route sets it.
Values are form-encoded (`%`, `&`, `+`, `=` and space); `%` is doubled for Envoy's formatter.
*/}}
{{- define "jwtexchange.envoyRouteHeader" -}}
{{- $pairs := list }}
{{- range $k, $v := . }}
{{- $form := toString $v | replace "%" "%25" | replace "&" "%26" | replace "+" "%2B" | replace "=" "%3D" | replace " " "%20" }}
{{- $pairs = append $pairs (printf "%s=%s" $k $form) }}
{{- end -}}
typed_per_filter_config:
  envoy.filters.http.header_mutation:
    '@type': type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute
    mutations:
      request_mutations:
        - append:
            header:
              key: x-jwtexchange-route
              value: {{ join "&" $pairs | replace "%" "%%" | quote }}
            append_action: OVERWRITE_IF_EXISTS_OR_ADD
{{- end }}

{{/* Per-route ext_authz settings (gRPC). Call with a dict of context extensions. */}}
{{- define "jwtexchange.envoyCheckSettings" -}}
typed_per_filter_config:
  envoy.filters.http.ext_authz:
    '@type': type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
    check_settings:
      context_extensions:
        {{- range $k, $v := . }}
        {{ $k }}: {{ $v | quote }}
        {{- end }}
{{- end }}

{{/* A route match from {path} or {prefix}. */}}
{{- define "jwtexchange.envoyMatch" -}}
{{- if .path -}}
match: { path: {{ .path | quote }} }
{{- else -}}
match: { prefix: {{ .prefix | default "/" | quote }} }
{{- end }}
{{- end }}

{{- define "jwtexchange.envoyIngressListener" -}}
{{- $e := .Values.envoy }}
{{- $timeout := $e.ingress.timeout -}}
- name: ingress
  address:
    socket_address: { address: 0.0.0.0, port_value: {{ int $e.ingress.port }} }
  filter_chains:
    - filters:
        - name: envoy.filters.network.http_connection_manager
          typed_config:
            '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
            stat_prefix: ingress
            codec_type: AUTO
            {{- include "jwtexchange.envoyPathNormalization" . | nindent 12 }}
            use_remote_address: true
            generate_request_id: true
            route_config:
              name: ingress
              virtual_hosts:
                - name: app
                  domains: ['*']
                  routes:
                    {{- range $e.ingress.exempt }}
                    - {{ include "jwtexchange.envoyMatch" . }}
                      route: { cluster: app, timeout: {{ $timeout }} }
                      {{- include "jwtexchange.envoyRouteSettings" (dict "ext" (dict "jwtexchange.exempt" "true") "ctx" $) | nindent 22 }}
                    {{- end }}
                    - match: { prefix: / }
                      route: { cluster: app, timeout: {{ $timeout }} }
                      {{- include "jwtexchange.envoyRouteSettings" (dict "ext" (dict "jwtexchange.direction" "inbound") "ctx" $) | nindent 22 }}
            http_filters:
              {{- if include "jwtexchange.httpTransport" . }}
              # Strip identity headers and any client-sent route header before anything else.
              # Envoy applies this filter-level list first, then the route's own mutations, so
              # only the route can set x-jwtexchange-route.
              {{- else }}
              # Strip identity headers before anything else, so no route can forward a spoofed one.
              {{- end }}
              - name: envoy.filters.http.header_mutation
                typed_config:
                  '@type': type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
                  mutations:
                    request_mutations:
                      {{- if include "jwtexchange.httpTransport" . }}
                      - remove: x-jwtexchange-route
                      {{- end }}
                      {{- range list "subject" "issuer" "kind" "claims" "spicedb-subject" "actor" "saga" "reason" }}
                      - remove: x-jwtauth-{{ . }}
                      {{- end }}
              {{- include "jwtexchange.envoyExtAuthzFilter" (dict "timeout" $e.extAuthzTimeout "direction" "inbound" "ctx" .) | nindent 14 }}
              {{- include "jwtexchange.envoyRouterFilter" . | nindent 14 }}
      {{- if $e.ingress.tls.enabled }}
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: {{ $e.ingress.tls.requireClientCertificate }}
          common_tls_context:
            {{- include "jwtexchange.envoyCertificateSds" . | nindent 12 }}
            {{- if $e.ingress.tls.requireClientCertificate }}
            validation_context_sds_secret_config:
              {{- include "jwtexchange.envoySdsRef" (dict "name" "ca" "ctx" .) | nindent 14 }}
            {{- end }}
      {{- end }}
{{- end }}

{{- define "jwtexchange.envoyHealthListener" -}}
- name: health
  address:
    socket_address: { address: 0.0.0.0, port_value: {{ int .Values.envoy.healthPort }} }
  filter_chains:
    - filters:
        - name: envoy.filters.network.http_connection_manager
          typed_config:
            '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
            stat_prefix: health
            {{- include "jwtexchange.envoyPathNormalization" . | nindent 12 }}
            route_config:
              name: health
              virtual_hosts:
                - name: admin
                  domains: ['*']
                  routes:
                    # Read-only admin endpoints only; the admin interface itself stays on loopback.
                    - match: { path: /ready }
                      route: { cluster: envoy_admin }
                    - match: { path: /stats/prometheus }
                      route: { cluster: envoy_admin }
                    - match: { prefix: / }
                      direct_response: { status: 404 }
            http_filters:
              {{- include "jwtexchange.envoyRouterFilter" . | nindent 14 }}
{{- end }}

{{/* A STATIC loopback cluster. Call with (dict "name" … "port" … "http2" bool "downstream" bool). */}}
{{- define "jwtexchange.envoyLoopbackCluster" -}}
- name: {{ .name }}
  type: STATIC
  connect_timeout: 0.25s
  {{- if or .http2 .downstream }}
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      {{- if .downstream }}
      # gRPC callers stay on HTTP/2, HTTP/1.1 callers on HTTP/1.1.
      use_downstream_protocol_config:
        http_protocol_options: {}
        http2_protocol_options: {}
      {{- else }}
      explicit_http_config:
        http2_protocol_options: {}
      {{- end }}
  {{- end }}
  load_assignment:
    cluster_name: {{ .name }}
    endpoints:
      - lb_endpoints:
          - endpoint:
              address:
                socket_address: { address: 127.0.0.1, port_value: {{ int .port }} }
{{- end }}

{{/* The ext_authz cluster: HTTP/2 connections kept and pinged, limits far above any burst. */}}
{{- define "jwtexchange.envoyExtAuthzCluster" -}}
{{- if include "jwtexchange.httpTransport" . -}}
{{ include "jwtexchange.envoyExtAuthzHttpCluster" . }}
{{- else -}}
- name: jwtexchange
  type: STATIC
  connect_timeout: 0.25s
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      common_http_protocol_options: { idle_timeout: 3600s }
      explicit_http_config:
        http2_protocol_options:
          max_concurrent_streams: 1024
          connection_keepalive: { interval: 30s, timeout: 5s }
  circuit_breakers:
    thresholds:
      - { priority: DEFAULT, max_connections: 64, max_pending_requests: 8192, max_requests: 8192 }
  load_assignment:
    cluster_name: jwtexchange
    endpoints:
      - lb_endpoints:
          - endpoint:
              address:
                socket_address: { address: 127.0.0.1, port_value: {{ int .Values.jwtexchange.grpcPort }} }
{{- end }}
{{- end }}

{{/*
The ext_authz cluster in HTTP mode: HTTP/1.1 carries one check per connection at a time, so Envoy
opens a connection per concurrent check and keeps it. jwtexchange keeps idle connections longer
than this idle_timeout, so Envoy is always the side that closes one (no close racing a check).
*/}}
{{- define "jwtexchange.envoyExtAuthzHttpCluster" -}}
- name: jwtexchange
  type: STATIC
  connect_timeout: 0.25s
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      common_http_protocol_options: { idle_timeout: 3600s }
      explicit_http_config:
        http_protocol_options: {}
  # A connection per check in flight: the limits must never be what turns a burst into 503s.
  circuit_breakers:
    thresholds:
      - { priority: DEFAULT, max_connections: 256, max_pending_requests: 8192, max_requests: 8192 }
  load_assignment:
    cluster_name: jwtexchange
    endpoints:
      - lb_endpoints:
          - endpoint:
              address:
                socket_address: { address: 127.0.0.1, port_value: {{ int .Values.jwtexchange.httpCheckPort }} }
{{- end }}

{{- define "jwtexchange.envoyLocalClusters" -}}
{{- $e := .Values.envoy -}}
{{- include "jwtexchange.envoyExtAuthzCluster" . }}
{{- if $e.ingress.enabled }}
{{ include "jwtexchange.envoyLoopbackCluster" (dict "name" "app" "port" $e.ingress.appPort "downstream" true) }}
{{- end }}
{{ include "jwtexchange.envoyLoopbackCluster" (dict "name" "envoy_admin" "port" $e.adminPort) }}
{{- end }}
