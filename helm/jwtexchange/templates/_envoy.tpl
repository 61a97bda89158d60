{{/*
The Envoy bootstrap: an ingress listener (every request is checked inbound), an egress listener
(outbound requests; saga-tagged routes get a service token), a health listener (/ready and
/stats/prometheus from the loopback admin interface) and their clusters. The shape follows
envoy/ingress.yaml; the chart tests run the result through `envoy --mode validate`.
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
Call with (dict "timeout" … ).
*/}}
{{- define "jwtexchange.envoyExtAuthzFilter" -}}
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

{{/* Per-route ext_authz settings. Call with a dict of context extensions. */}}
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
                      {{- include "jwtexchange.envoyCheckSettings" (dict "jwtexchange.exempt" "true") | nindent 22 }}
                    {{- end }}
                    - match: { prefix: / }
                      route: { cluster: app, timeout: {{ $timeout }} }
                      {{- include "jwtexchange.envoyCheckSettings" (dict "jwtexchange.direction" "inbound") | nindent 22 }}
            http_filters:
              # Strip identity headers before anything else, so no route can forward a spoofed one.
              - name: envoy.filters.http.header_mutation
                typed_config:
                  '@type': type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
                  mutations:
                    request_mutations:
                      {{- range list "subject" "issuer" "kind" "claims" "spicedb-subject" "actor" "saga" "reason" }}
                      - remove: x-jwtauth-{{ . }}
                      {{- end }}
              {{- include "jwtexchange.envoyExtAuthzFilter" (dict "timeout" $e.extAuthzTimeout) | nindent 14 }}
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

{{- define "jwtexchange.envoyLocalClusters" -}}
{{- $e := .Values.envoy -}}
{{- include "jwtexchange.envoyExtAuthzCluster" . }}
{{- if $e.ingress.enabled }}
{{ include "jwtexchange.envoyLoopbackCluster" (dict "name" "app" "port" $e.ingress.appPort "downstream" true) }}
{{- end }}
{{ include "jwtexchange.envoyLoopbackCluster" (dict "name" "envoy_admin" "port" $e.adminPort) }}
{{- end }}
