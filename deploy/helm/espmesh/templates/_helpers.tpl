{{- define "espmesh.labels" -}}
app.kubernetes.io/name: espmesh
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "espmesh.operatorName" -}}
{{ .Release.Name }}-operator
{{- end -}}
