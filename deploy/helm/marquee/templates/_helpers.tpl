{{/* The release's name for a service: <release>-<service>, e.g. marquee-platform-core. */}}
{{- define "marquee.fullname" -}}
{{- printf "%s-%s" .root.Release.Name (.key | kebabcase) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "marquee.selectorLabels" -}}
app.kubernetes.io/name: {{ .key | kebabcase }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "marquee.labels" -}}
{{ include "marquee.selectorLabels" . }}
app.kubernetes.io/part-of: marquee
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "marquee.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository (.key | kebabcase) (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{/*
The call graph, and nothing else: who may open a connection to whom, on which
port. gRPC calls carry the fleet's service credential; the http edges fetch
auth's published signing keys (JWKS) to verify access tokens.
*/}}
{{- define "marquee.calls" -}}
auth:
  - {to: platformCore, port: grpc}
base:
  - {to: auth, port: grpc}
  - {to: auth, port: http}
  - {to: financial, port: grpc}
financial:
  - {to: auth, port: grpc}
  - {to: auth, port: http}
platformCore:
  - {to: auth, port: http}
{{- end -}}

{{/* The environment every service reads (DESIGN §11), by reference for secrets. */}}
{{- define "marquee.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $svc := .svc -}}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.databaseName }}, key: {{ .key | kebabcase }}}}
{{- if $v.secrets.redisName }}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.redisName }}, key: url}}
{{- end }}
- name: INTERNAL_SERVICE_TOKEN
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.name }}, key: INTERNAL_SERVICE_TOKEN}}
- {name: HTTP_ADDR, value: {{ printf "0.0.0.0:%v" $svc.ports.http | quote }}}
{{- if $svc.ports.grpc }}
- {name: GRPC_ADDR, value: {{ printf "0.0.0.0:%v" $svc.ports.grpc | quote }}}
{{- end }}
- {name: LOG_FORMAT, value: {{ $v.config.logFormat | quote }}}
- {name: LOG_LEVEL, value: {{ $v.config.logLevel | quote }}}
- {name: JWT_ISSUER, value: {{ $v.config.jwtIssuer | quote }}}
- {name: JWT_AUDIENCE, value: {{ $v.config.jwtAudience | quote }}}
- {name: AUTH_JWKS_URL, value: {{ printf "http://%s-auth:%v/.well-known/jwks.json" $root.Release.Name $v.services.auth.ports.http | quote }}}
- {name: AUTH_GRPC_URL, value: {{ printf "http://%s-auth:%v" $root.Release.Name $v.services.auth.ports.grpc | quote }}}
- {name: PLATFORM_CORE_GRPC_URL, value: {{ printf "http://%s-platform-core:%v" $root.Release.Name $v.services.platformCore.ports.grpc | quote }}}
- {name: FINANCIAL_GRPC_URL, value: {{ printf "http://%s-financial:%v" $root.Release.Name $v.services.financial.ports.grpc | quote }}}
{{- if $v.config.otlpEndpoint }}
- {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ $v.config.otlpEndpoint | quote }}}
{{- end }}
{{- if $v.config.corsOrigins }}
- {name: CORS_ORIGINS, value: {{ $v.config.corsOrigins | quote }}}
{{- end }}
{{- if eq .key "auth" }}
- name: SIGNING_KEY_ENCRYPTION_KEY
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.name }}, key: SIGNING_KEY_ENCRYPTION_KEY}}
- name: MARQUEE_ADMIN_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.name }}, key: MARQUEE_ADMIN_PASSWORD, optional: true}}
- name: SMTP_URL
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.name }}, key: SMTP_URL, optional: true}}
- {name: MARQUEE_ADMIN_EMAIL, value: {{ $v.config.adminEmail | quote }}}
- {name: PUBLIC_WEB_URL, value: {{ $v.config.publicWebUrl | quote }}}
- {name: MAIL_DIR, value: /tmp/mail}
{{- end }}
{{- if eq .key "platformCore" }}
- {name: DEFAULT_PACKAGE, value: {{ $v.config.defaultPackage | quote }}}
{{- end }}
{{- if eq .key "base" }}
- {name: MEDIA_MAX_BYTES, value: {{ $svc.media.maxBytes | quote }}}
- {name: MEDIA_DIR, value: /data/media}
{{- if and $v.secrets.mediaName $svc.media.s3.bucket }}
- {name: MEDIA_S3_BUCKET, value: {{ $svc.media.s3.bucket | quote }}}
- {name: MEDIA_S3_REGION, value: {{ $svc.media.s3.region | quote }}}
{{- if $svc.media.s3.endpoint }}
- {name: MEDIA_S3_ENDPOINT, value: {{ $svc.media.s3.endpoint | quote }}}
{{- end }}
- name: MEDIA_S3_ACCESS_KEY_ID
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.mediaName }}, key: MEDIA_S3_ACCESS_KEY_ID}}
- name: MEDIA_S3_SECRET_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ $v.secrets.mediaName }}, key: MEDIA_S3_SECRET_ACCESS_KEY}}
{{- end }}
{{- end }}
{{- range $name, $value := $svc.env }}
- {name: {{ $name }}, value: {{ $value | quote }}}
{{- end }}
{{- end -}}

{{/* Egress every pod of the fleet needs: DNS, and the data services outside the cluster. */}}
{{- define "marquee.baseEgress" -}}
- to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
      podSelector:
        matchLabels: {k8s-app: kube-dns}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- range .Values.networkPolicy.dataServices }}
- to:
    - ipBlock: {cidr: {{ .cidr }}}
  ports:
    {{- range .ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end }}
{{- end -}}
