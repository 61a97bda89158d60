{{/*
Names, labels and images, in the prometheus-community style.
*/}}

{{- define "jwtexchange.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, truncated to 63 characters (DNS label limit). */}}
{{- define "jwtexchange.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "jwtexchange.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "jwtexchange.labels" -}}
helm.sh/chart: {{ include "jwtexchange.chart" . }}
{{ include "jwtexchange.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "jwtexchange.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jwtexchange.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the demo gateway pods. */}}
{{- define "jwtexchange.gatewaySelectorLabels" -}}
{{ include "jwtexchange.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{/*
Labels of the pods that carry the sidecars: podSelector, else the demo gateway's. Empty when
neither is known (then the metrics Service and the NetworkPolicy are not rendered).
*/}}
{{- define "jwtexchange.podSelectorLabels" -}}
{{- if .Values.podSelector }}
{{- toYaml .Values.podSelector }}
{{- else if .Values.gateway.enabled }}
{{- include "jwtexchange.gatewaySelectorLabels" . }}
{{- end }}
{{- end }}

{{/* repository:tag or repository@digest; the tag defaults to appVersion. Call with (dict "image" … "ctx" $). */}}
{{- define "jwtexchange.image" -}}
{{- $tag := .image.tag | default .ctx.Chart.AppVersion | toString -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{- define "jwtexchange.tlsSecretName" -}}
{{- .Values.tls.secretName | default (printf "%s-tls" (include "jwtexchange.fullname" .)) }}
{{- end }}

{{- define "jwtexchange.configMapName" -}}
{{- printf "%s-config" (include "jwtexchange.fullname" .) }}
{{- end }}

{{- define "jwtexchange.envoyConfigMapName" -}}
{{- printf "%s-envoy" (include "jwtexchange.fullname" .) }}
{{- end }}
