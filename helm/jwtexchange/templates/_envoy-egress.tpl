{{/*
Egress: the gateway sends outbound requests to 127.0.0.1:<egress.port> with the upstream's name
as Host / :authority. One virtual host per upstream; its routes come from values, and a route with
an `audience` is saga-tagged: jwtexchange injects a service token for that audience (with
`delegation: saga`, a token acting for the saga's initiator; docs/delegation.md).
*/}}
{{- define "jwtexchange.envoyEgressListener" -}}
{{- $e := .Values.envoy -}}
- name: egress
  address:
    # Loopback only: the egress listener is for the containers of this pod.
    socket_address: { address: 127.0.0.1, port_value: {{ int $e.egress.port }} }
  filter_chains:
    - filters:
        - name: envoy.filters.network.http_connection_manager
          typed_config:
            '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
            stat_prefix: egress
            codec_type: AUTO
            {{- include "jwtexchange.envoyPathNormalization" . | nindent 12 }}
            # Match upstreams by name whatever port the client put in the authority.
            strip_any_host_port: true
            route_config:
              name: egress
              virtual_hosts:
                {{- range $e.egress.upstreams }}
                {{- include "jwtexchange.envoyEgressVirtualHost" (dict "u" . "ctx" $) | nindent 16 }}
                {{- end }}
                - name: unknown_upstream
                  domains: ['*']
                  routes:
                    - match: { prefix: / }
                      direct_response:
                        status: 404
                        body: { inline_string: "jwtexchange egress: no upstream for this host\n" }
                      typed_per_filter_config:
                        envoy.filters.http.ext_authz:
                          '@type': type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                          disabled: true
            http_filters:
              {{- if include "jwtexchange.httpTransport" . }}
              # The app cannot choose its own route settings: any x-jwtexchange-route it sends is
              # removed before the route sets its own (filter-level mutations run first).
              - name: envoy.filters.http.header_mutation
                typed_config:
                  '@type': type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
                  mutations:
                    request_mutations:
                      - remove: x-jwtexchange-route
              {{- end }}
              {{- include "jwtexchange.envoyExtAuthzFilter" (dict "timeout" $e.egress.extAuthzTimeout "direction" "outbound" "ctx" .) | nindent 14 }}
              {{- include "jwtexchange.envoyRouterFilter" $ | nindent 14 }}
{{- end }}

{{- define "jwtexchange.envoyEgressVirtualHost" -}}
{{- $u := .u }}
{{- $routes := $u.routes | default (list (dict "prefix" "/")) -}}
- name: {{ $u.name }}
  domains:
    {{- range uniq (concat (list $u.name $u.address) ($u.authorities | default list)) }}
    - {{ . | quote }}
    {{- end }}
  routes:
    {{- range $routes }}
    - {{ include "jwtexchange.envoyMatch" . }}
      route:
        cluster: egress_{{ $u.name }}
        timeout: {{ $u.timeout | default "30s" }}
        # The upstream sees its own name, not the alias the gateway used.
        auto_host_rewrite: true
      {{- $ext := dict "jwtexchange.direction" "outbound" }}
      {{- with .audience }}{{ $_ := set $ext "jwtexchange.audience" . }}{{ end }}
      {{- with .scope }}{{ $_ := set $ext "jwtexchange.scope" . }}{{ end }}
      {{- with .whenHeader }}{{ $_ := set $ext "jwtexchange.when-header" . }}{{ end }}
      {{- with .delegation }}{{ $_ := set $ext "jwtexchange.delegation" . }}{{ end }}
      {{- include "jwtexchange.envoyRouteSettings" (dict "ext" $ext "ctx" $.ctx) | nindent 6 }}
    {{- end }}
{{- end }}

{{- define "jwtexchange.envoyUpstreamCluster" -}}
{{- $u := .u -}}
- name: egress_{{ $u.name }}
  type: STRICT_DNS
  # Most clusters are IPv4-first; IPv6 is still used when a name has no A record.
  dns_lookup_family: V4_PREFERRED
  connect_timeout: {{ $u.connectTimeout | default "1s" }}
  typed_extension_protocol_options:
    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
      '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
      explicit_http_config:
        {{- if $u.http2 }}
        http2_protocol_options: {}
        {{- else }}
        http_protocol_options: {}
        {{- end }}
  load_assignment:
    cluster_name: egress_{{ $u.name }}
    endpoints:
      - lb_endpoints:
          - endpoint:
              address:
                socket_address: { address: {{ $u.address | quote }}, port_value: {{ int $u.port }} }
  {{- if and $u.tls $u.tls.enabled }}
  transport_socket:
    name: envoy.transport_sockets.tls
    typed_config:
      '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
      sni: {{ $u.tls.sni | default $u.address | quote }}
      common_tls_context:
        {{- if $u.http2 }}
        alpn_protocols: [h2]
        {{- end }}
        {{- include "jwtexchange.envoyCertificateSds" .ctx | nindent 8 }}
        combined_validation_context:
          # The upstream must present a certificate for the name we dialled.
          default_validation_context:
            match_typed_subject_alt_names:
              - san_type: DNS
                matcher: { exact: {{ $u.tls.sni | default $u.address | quote }} }
          validation_context_sds_secret_config:
            {{- include "jwtexchange.envoySdsRef" (dict "name" "ca" "ctx" .ctx) | nindent 12 }}
  {{- end }}
{{- end }}
