{{/* Release-scoped name, at most 63 characters (a DNS label). */}}
{{- define "guardian.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "guardian.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (api or worker): pass (dict "root" $ "component" "api"). */}}
{{- define "guardian.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "guardian.secretName" -}}
{{- default (printf "%s-secrets" (include "guardian.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "guardian.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "guardian.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security: Pod Security Standards "restricted". */}}
{{- define "guardian.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "guardian.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Settings every guardian container gets: config values, then secrets as NAME_FILE paths. */}}
{{- define "guardian.env" -}}
- name: NODE_ENV
  value: production
- name: DATA_DIR
  value: /data
- name: METRICS_HOST
  value: 0.0.0.0
- name: METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
{{- range $name, $value := .Values.config }}
{{- if ne (toString $value) "" }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
- name: DATABASE_URL_FILE
  value: /run/secrets/guardian/database-url
- name: REDIS_URL_FILE
  value: /run/secrets/guardian/redis-url
- name: MASTER_KEY_FILE
  value: /run/secrets/guardian/master-key
- name: LOG_SIGNING_KEY_FILE
  value: /run/secrets/guardian/log-signing-key
- name: S3_ACCESS_KEY_ID_FILE
  value: /run/secrets/guardian/s3-access-key-id
- name: S3_SECRET_ACCESS_KEY_FILE
  value: /run/secrets/guardian/s3-secret-access-key
{{- end -}}

{{- define "guardian.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
- name: secrets
  mountPath: /run/secrets/guardian
  readOnly: true
{{- end -}}

{{- define "guardian.volumes" -}}
- name: data
  emptyDir:
    sizeLimit: {{ .Values.dataDir.sizeLimit }}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.tmp.sizeLimit }}
- name: secrets
  secret:
    secretName: {{ include "guardian.secretName" . }}
    defaultMode: 0440
    items:
      - { key: database-url, path: database-url }
      - { key: redis-url, path: redis-url }
      - { key: master-key, path: master-key }
      - { key: log-signing-key, path: log-signing-key }
      - { key: s3-access-key-id, path: s3-access-key-id }
      - { key: s3-secret-access-key, path: s3-secret-access-key }
{{- end -}}
