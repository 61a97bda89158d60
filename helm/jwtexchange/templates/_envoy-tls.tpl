{{/*
TLS material reaches Envoy through file-based SDS: the secret files (in the Envoy ConfigMap)
point at the mounted Secret, and `watched_directory` makes Envoy reload them when the kubelet
swaps the Secret's ..data link, so rotated certificates are used without a restart.
*/}}
{{- define "jwtexchange.envoyConfigDir" -}}/etc/envoy{{- end }}

{{/* Reference to one SDS secret: (dict "name" "cert"|"ca" "ctx" $). */}}
{{- define "jwtexchange.envoySdsRef" -}}
{{- $dir := include "jwtexchange.envoyConfigDir" .ctx -}}
name: jwtexchange_{{ .name }}
sds_config:
  path_config_source:
    path: {{ $dir }}/sds-{{ .name }}.yaml
    watched_directory: { path: {{ $dir }} }
  resource_api_version: V3
{{- end }}

{{- define "jwtexchange.envoyCertificateSds" -}}
tls_certificate_sds_secret_configs:
  - {{- include "jwtexchange.envoySdsRef" (dict "name" "cert" "ctx" .) | nindent 4 }}
{{- end }}

{{- define "jwtexchange.envoySdsCert" -}}
{{- $dir := .Values.tls.mountPath -}}
resources:
  - '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
    name: jwtexchange_cert
    tls_certificate:
      certificate_chain: { filename: {{ $dir }}/tls.crt }
      private_key: { filename: {{ $dir }}/tls.key }
      watched_directory: { path: {{ $dir }} }
{{- end }}

{{- define "jwtexchange.envoySdsCa" -}}
{{- $dir := .Values.tls.mountPath -}}
resources:
  - '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
    name: jwtexchange_ca
    validation_context:
      trusted_ca: { filename: {{ $dir }}/ca.crt }
      watched_directory: { path: {{ $dir }} }
{{- end }}

{{/* Whether Envoy needs the TLS Secret at all. */}}
{{- define "jwtexchange.envoyUsesTls" -}}
{{- $uses := .Values.envoy.ingress.tls.enabled -}}
{{- range .Values.envoy.egress.upstreams }}
{{- if and .tls .tls.enabled }}{{ $uses = true }}{{ end }}
{{- end }}
{{- if $uses }}true{{ end }}
{{- end }}
