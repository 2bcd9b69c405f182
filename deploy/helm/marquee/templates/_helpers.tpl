{{/* The release's name for a service: <release>-<service>, e.g. marquee-platform-core. */}}
{{- define "marquee.fullname" -}}
{{- printf "%s-%s" .root.Release.Name (.key | kebabcase) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The headless Service that lists every ready pod's address for gRPC callers: <release>-<service>-grpc. */}}
{{- define "marquee.grpcName" -}}
{{- printf "%s-%s-grpc" .root.Release.Name (.key | kebabcase) | trunc 63 | trimSuffix "-" -}}
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

{{/* The service account every pod runs as: created under the release's name unless named, or an existing one. */}}
{{- define "marquee.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default .Release.Name -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/*
A number as the integer it is: values files give helm every number as a
float, which prints as 2.62144e+07 and no service parses that.
*/}}
{{- define "marquee.int" -}}
{{- printf "%d" (int64 .) -}}
{{- end -}}

{{/* An extra environment value as a string, whole numbers without an exponent. */}}
{{- define "marquee.envValue" -}}
{{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) -}}
{{- printf "%d" (int64 .) -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* The fewest and the most replicas a service runs: the autoscaler's bounds, or its fixed count. */}}
{{- define "marquee.minReplicas" -}}
{{- if .autoscaling.enabled }}{{ include "marquee.int" .autoscaling.minReplicas }}{{ else }}{{ include "marquee.int" .replicas }}{{ end -}}
{{- end -}}
{{- define "marquee.maxReplicas" -}}
{{- if .autoscaling.enabled }}{{ include "marquee.int" .autoscaling.maxReplicas }}{{ else }}{{ include "marquee.int" .replicas }}{{ end -}}
{{- end -}}

{{/* base keeps media in a bucket (with credentials from secrets.mediaName) rather than on a volume. */}}
{{- define "marquee.mediaInBucket" -}}
{{- if and .Values.secrets.mediaName .Values.services.base.media.s3.bucket }}true{{ end -}}
{{- end -}}

{{/*
nginx's body limit for the media upload: services.base.media.maxBytes plus
1 MiB for the request around it, in whole MiB ("26m").
*/}}
{{- define "marquee.bodyLimit" -}}
{{- $mib := 1048576 -}}
{{- $bytes := add (int64 .Values.services.base.media.maxBytes) $mib -}}
{{- printf "%dm" (div (add $bytes (sub $mib 1)) $mib) -}}
{{- end -}}

{{/* An nginx size ("26m", "1g", "512k", "1048576") in bytes; 0 is no limit. */}}
{{- define "marquee.sizeBytes" -}}
{{- $s := toString . | lower -}}
{{- if not (regexMatch "^[0-9]+[kmg]?$" $s) -}}
{{- fail (printf "ingress annotation nginx.ingress.kubernetes.io/proxy-body-size %q is not a size like 26m" $s) -}}
{{- end -}}
{{- $n := regexReplaceAll "^0+([0-9])" (regexFind "^[0-9]+" $s) "${1}" | int64 -}}
{{- $unit := dict "k" 1024 "m" 1048576 "g" 1073741824 -}}
{{- $mult := 1 -}}
{{- $suffix := regexFind "[kmg]$" $s -}}
{{- if $suffix }}{{ $mult = get $unit $suffix }}{{ end -}}
{{- mul $n $mult -}}
{{- end -}}

{{/*
Render-time refusals: combinations of values that install but cannot work.
Each names the values to change.
*/}}
{{- define "marquee.validate" -}}
{{- $v := .Values -}}
{{- range $key, $svc := $v.services }}
{{- if $svc.enabled }}
{{- $min := include "marquee.minReplicas" $svc | int64 }}
{{- $max := include "marquee.maxReplicas" $svc | int64 }}
{{- if and $svc.autoscaling.enabled (gt (int64 $svc.autoscaling.minReplicas) (int64 $svc.autoscaling.maxReplicas)) }}
{{- fail (printf "services.%s.autoscaling: minReplicas (%d) is above maxReplicas (%d)" $key (int64 $svc.autoscaling.minReplicas) (int64 $svc.autoscaling.maxReplicas)) }}
{{- end }}
{{- if and (gt $max 1) (not $v.secrets.redisName) }}
{{- fail (printf "services.%s can run %d replicas but secrets.redisName is empty: replicas learn each other's changes (access, entitlements, signing keys, counters) only through Redis. Set secrets.redisName, or run one replica (services.%s.replicas: 1 with autoscaling.enabled: false, or autoscaling.maxReplicas: 1)." $key $max $key) }}
{{- end }}
{{- if and $svc.pdb.enabled (not (kindIs "invalid" $svc.pdb.minAvailable)) }}
{{- $keep := 0 }}
{{- if kindIs "string" $svc.pdb.minAvailable }}
{{- $pct := trimSuffix "%" $svc.pdb.minAvailable | int64 }}
{{- $keep = div (add (mul $pct $min) 99) 100 }}
{{- else }}
{{- $keep = int64 $svc.pdb.minAvailable }}
{{- end }}
{{- if ge (int64 $keep) $min }}
{{- fail (printf "services.%s.pdb.minAvailable (%v) leaves no pod to evict at %d replicas: a node drain would hang. Use pdb.maxUnavailable: 1, or a minAvailable below the fewest replicas." $key $svc.pdb.minAvailable $min) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if or $v.services.auth.enabled $v.services.base.enabled }}
{{- if and (not $v.mail.smtpSecretKey) (not $v.mail.allowPodDirectory) }}
{{- fail "auth and base have no SMTP relay (mail.smtpSecretKey is empty), so they would write every mail (verification, password reset, invitations, waiting-list offers) into a directory inside their pods, lost on restart. Put an SMTP_URL in the Secret secrets.name and set mail.smtpSecretKey to its key, or, for development only, set mail.allowPodDirectory: true." }}
{{- end }}
{{- end }}
{{- $stop := add (int64 $v.shutdown.preStopSleepSeconds) (int64 $v.shutdown.drainSeconds) 10 }}
{{- if le (int64 $v.terminationGracePeriodSeconds) $stop }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be larger than shutdown.preStopSleepSeconds + shutdown.drainSeconds + 10 (%d): pods would be killed while still draining." (int64 $v.terminationGracePeriodSeconds) $stop) }}
{{- end }}
{{- if and $v.secrets.redisCaName (not $v.secrets.redisName) }}
{{- fail "secrets.redisCaName is set but secrets.redisName is empty: the authority is only used for a rediss:// URL." }}
{{- end }}
{{- if and $v.services.base.enabled (ne (not $v.secrets.mediaName) (not $v.services.base.media.s3.bucket)) }}
{{- fail "secrets.mediaName and services.base.media.s3.bucket go together: set both to keep media in a bucket, or neither to keep them on a volume." }}
{{- end }}
{{- if $v.ingress.enabled }}
{{- if and $v.ingress.exposeDocs (ne $v.ingress.className "nginx") }}
{{- fail "ingress.exposeDocs needs ingress.className nginx (it rewrites /openapi/<service>.json to each service's /openapi.json)." }}
{{- end }}
{{- $limit := get $v.ingress.annotations "nginx.ingress.kubernetes.io/proxy-body-size" }}
{{- if and (eq $v.ingress.className "nginx") $limit $v.services.base.enabled }}
{{- $bytes := include "marquee.sizeBytes" $limit | int64 }}
{{- if and (ne $bytes 0) (lt $bytes (int64 $v.services.base.media.maxBytes)) }}
{{- fail (printf "ingress annotation nginx.ingress.kubernetes.io/proxy-body-size (%s) is below services.base.media.maxBytes (%d): uploads the service accepts would be refused at the ingress. Raise it, or remove it to have it computed (%s)." $limit (int64 $v.services.base.media.maxBytes) (include "marquee.bodyLimit" .)) }}
{{- end }}
{{- end }}
{{- end }}
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

{{/*
The public REST paths of each service, per host. Clients reach auth, base and
financial on ingress.host; operators reach platform-core and auth's admin
routes on ingress.operatorHost. Health, readiness, metrics and the OpenAPI
documents are never routed (ingress.exposeDocs routes the documents under
/openapi/<service>.json). financial's /v1/meta/permissions shares its path
with base's, which the client host routes.
*/}}
{{- define "marquee.routes" -}}
client:
  auth: [/v1/auth, /v1/companies, /v1/invitations, /v1/me, /.well-known]
  base: [/v1/artists, /v1/venues, /v1/vendors, /v1/events, /v1/calendar, /v1/offers, /v1/orders, /v1/vouchers, /v1/checkin-lists, /v1/waitlist-offers, /v1/workspaces, /v1/tasks, /v1/dashboard, /v1/activity, /v1/media, /v1/crew, /v1/shifts, /v1/webhooks, /v1/meta]
  financial: [/v1/ledger, /v1/expenses, /v1/incomes, /v1/settlements, /v1/payouts, /v1/reports, /v1/parked-facts]
operator:
  auth: [/v1/admin]
  platformCore: [/v1/modules, /v1/packages, /v1/addons, /v1/companies]
{{- end -}}

{{/* The environment every service and its migration Job read (DESIGN §11), by reference for secrets. */}}
{{- define "marquee.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $svc := .svc -}}
{{- $rel := $root.Release.Name -}}
{{- $s := $v.services -}}
{{- $secret := dict "name" $v.secrets.name -}}
{{- $env := list -}}
{{- $env = append $env (dict "name" "DATABASE_URL" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.databaseName "key" (.key | kebabcase)))) -}}
{{- if $v.secrets.redisName -}}
{{- $env = append $env (dict "name" "REDIS_URL" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.redisName "key" "url"))) -}}
{{- if $v.secrets.redisCaName -}}
{{- $env = append $env (dict "name" "REDIS_CA_CERT_FILE" "value" "/etc/marquee/redis-ca/ca.crt") -}}
{{- end -}}
{{- end -}}
{{- $env = append $env (dict "name" "INTERNAL_SERVICE_TOKEN" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.name "key" "INTERNAL_SERVICE_TOKEN"))) -}}
{{- $env = append $env (dict "name" "HTTP_ADDR" "value" (printf "0.0.0.0:%s" (include "marquee.int" $svc.ports.http))) -}}
{{- if $svc.ports.grpc -}}
{{- $env = append $env (dict "name" "GRPC_ADDR" "value" (printf "0.0.0.0:%s" (include "marquee.int" $svc.ports.grpc))) -}}
{{- end -}}
{{- /* mimalloc never asks for transparent huge pages; on a node that gives them to every process unasked, this turns them off for the pod: 10-20 MB each at idle. */ -}}
{{- $env = append $env (dict "name" "MIMALLOC_ALLOW_THP" "value" "0") -}}
{{- $env = append $env (dict "name" "LOG_FORMAT" "value" $v.config.logFormat) -}}
{{- $env = append $env (dict "name" "LOG_LEVEL" "value" $v.config.logLevel) -}}
{{- $env = append $env (dict "name" "JWT_ISSUER" "value" $v.config.jwtIssuer) -}}
{{- $env = append $env (dict "name" "JWT_AUDIENCE" "value" $v.config.jwtAudience) -}}
{{- $env = append $env (dict "name" "AUTH_JWKS_URL" "value" (printf "http://%s-auth:%s/.well-known/jwks.json" $rel (include "marquee.int" $s.auth.ports.http))) -}}
{{- /* gRPC callers balance over every address of the headless Service, re-resolving it. */ -}}
{{- $env = append $env (dict "name" "AUTH_GRPC_URL" "value" (printf "http://%s:%s" (include "marquee.grpcName" (dict "root" $root "key" "auth")) (include "marquee.int" $s.auth.ports.grpc))) -}}
{{- $env = append $env (dict "name" "PLATFORM_CORE_GRPC_URL" "value" (printf "http://%s:%s" (include "marquee.grpcName" (dict "root" $root "key" "platformCore")) (include "marquee.int" $s.platformCore.ports.grpc))) -}}
{{- $env = append $env (dict "name" "FINANCIAL_GRPC_URL" "value" (printf "http://%s:%s" (include "marquee.grpcName" (dict "root" $root "key" "financial")) (include "marquee.int" $s.financial.ports.grpc))) -}}
{{- $env = append $env (dict "name" "SHUTDOWN_DRAIN_SECS" "value" (include "marquee.int" $v.shutdown.drainSeconds)) -}}
{{- if $v.config.otlpEndpoint -}}
{{- $env = append $env (dict "name" "OTEL_EXPORTER_OTLP_ENDPOINT" "value" $v.config.otlpEndpoint) -}}
{{- end -}}
{{- if $v.config.corsOrigins -}}
{{- $env = append $env (dict "name" "CORS_ORIGINS" "value" $v.config.corsOrigins) -}}
{{- end -}}
{{- if eq .key "auth" -}}
{{- /* Only auth reads client addresses (sign-in limits and lockouts, the audit log). */ -}}
{{- $env = append $env (dict "name" "TRUSTED_PROXIES" "value" $v.config.trustedProxies) -}}
{{- $env = append $env (dict "name" "SIGNING_KEY_ENCRYPTION_KEY" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.name "key" "SIGNING_KEY_ENCRYPTION_KEY"))) -}}
{{- /* The first platform admin: an address and its password go together (auth refuses one without the other). */ -}}
{{- if $v.config.adminEmail -}}
{{- $env = append $env (dict "name" "MARQUEE_ADMIN_EMAIL" "value" $v.config.adminEmail) -}}
{{- $env = append $env (dict "name" "MARQUEE_ADMIN_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.name "key" "MARQUEE_ADMIN_PASSWORD"))) -}}
{{- end -}}
{{- end -}}
{{- if has .key (list "auth" "base") -}}
{{- /* auth and base send mail (auth: verification, password reset, invitations; base: waiting-list offers). */ -}}
{{- if $v.mail.smtpSecretKey -}}
{{- $env = append $env (dict "name" "SMTP_URL" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.name "key" $v.mail.smtpSecretKey))) -}}
{{- else -}}
{{- /* Only with mail.allowPodDirectory (marquee.validate): files in the pod's /tmp. */ -}}
{{- $env = append $env (dict "name" "MAIL_DIR" "value" "/tmp/mail") -}}
{{- end -}}
{{- if $v.mail.from -}}
{{- $env = append $env (dict "name" "MAIL_FROM" "value" $v.mail.from) -}}
{{- end -}}
{{- $env = append $env (dict "name" "PUBLIC_WEB_URL" "value" $v.config.publicWebUrl) -}}
{{- end -}}
{{- if eq .key "platformCore" -}}
{{- $env = append $env (dict "name" "DEFAULT_PACKAGE" "value" $v.config.defaultPackage) -}}
{{- end -}}
{{- if eq .key "base" -}}
{{- $env = append $env (dict "name" "TICKET_KEY_ENCRYPTION_KEY" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.name "key" "TICKET_KEY_ENCRYPTION_KEY"))) -}}
{{- $env = append $env (dict "name" "MEDIA_MAX_BYTES" "value" (include "marquee.int" $svc.media.maxBytes)) -}}
{{- $env = append $env (dict "name" "MEDIA_DIR" "value" "/data/media") -}}
{{- $env = append $env (dict "name" "WAITLIST_OFFER_HOURS" "value" (include "marquee.int" $svc.waitlistOfferHours)) -}}
{{- $env = append $env (dict "name" "RESERVATION_MINUTES" "value" (include "marquee.int" $svc.reservationMinutes)) -}}
{{- if include "marquee.mediaInBucket" $root -}}
{{- $env = append $env (dict "name" "MEDIA_S3_BUCKET" "value" $svc.media.s3.bucket) -}}
{{- $env = append $env (dict "name" "MEDIA_S3_REGION" "value" $svc.media.s3.region) -}}
{{- if $svc.media.s3.endpoint -}}
{{- $env = append $env (dict "name" "MEDIA_S3_ENDPOINT" "value" $svc.media.s3.endpoint) -}}
{{- end -}}
{{- $env = append $env (dict "name" "MEDIA_S3_ACCESS_KEY_ID" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.mediaName "key" "MEDIA_S3_ACCESS_KEY_ID"))) -}}
{{- $env = append $env (dict "name" "MEDIA_S3_SECRET_ACCESS_KEY" "valueFrom" (dict "secretKeyRef" (dict "name" $v.secrets.mediaName "key" "MEDIA_S3_SECRET_ACCESS_KEY"))) -}}
{{- end -}}
{{- end -}}
{{- $taken := list -}}
{{- range $env }}{{ $taken = append $taken .name }}{{ end -}}
{{- range $name, $value := $svc.env -}}
{{- if has $name $taken -}}
{{- fail (printf "services.%s.env.%s: the chart sets %s itself; change the value that renders it instead" $.key $name $name) -}}
{{- end -}}
{{- $env = append $env (dict "name" $name "value" (include "marquee.envValue" $value)) -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* The volumes a service's pods and its migration Job share. */}}
{{- define "marquee.sharedVolumes" -}}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
{{- if and .Values.secrets.redisName .Values.secrets.redisCaName }}
- name: redis-ca
  secret:
    secretName: {{ .Values.secrets.redisCaName }}
    items: [{key: ca.crt, path: ca.crt}]
    defaultMode: 0444
{{- end }}
{{- end -}}

{{- define "marquee.sharedMounts" -}}
- {name: tmp, mountPath: /tmp}
{{- if and .Values.secrets.redisName .Values.secrets.redisCaName }}
- {name: redis-ca, mountPath: /etc/marquee/redis-ca, readOnly: true}
{{- end }}
{{- end -}}

{{/* Scheduling shared by the services' pods and the migration Jobs. */}}
{{- define "marquee.scheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* One egress rule per destination outside the fleet: its CIDRs and TCP ports. */}}
{{- define "marquee.egressTo" -}}
{{- $dest := get .root.Values.networkPolicy.egress .dest -}}
{{- if $dest.cidrs }}
# {{ .dest }}
- to:
    {{- range $dest.cidrs }}
    {{- if $dest.except }}
    - ipBlock:
        cidr: {{ . }}
        except: {{ toJson $dest.except }}
    {{- else }}
    - ipBlock: {cidr: {{ . }}}
    {{- end }}
    {{- end }}
  ports:
    {{- range $dest.ports }}
    - {port: {{ include "marquee.int" . }}, protocol: TCP}
    {{- end }}
{{- end }}
{{- end -}}

{{/*
Egress a pod needs beyond the call graph: DNS always; PostgreSQL; Redis and
the OTLP collector when configured; the media bucket for base only; the SMTP
relay for auth and base (the services that send mail) only; the companies'
webhook receivers for base only. .key is the
service, or "migrate" for the Jobs.
*/}}
{{- define "marquee.egress" -}}
{{- $v := .root.Values -}}
{{- $np := $v.networkPolicy -}}
- to:
    - namespaceSelector:
        matchLabels:
          {{- toYaml $np.dns.namespaceSelector | nindent 10 }}
      podSelector:
        matchLabels:
          {{- toYaml $np.dns.podSelector | nindent 10 }}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- $dests := list "postgres" -}}
{{- if and $v.secrets.redisName (ne .key "migrate") }}{{ $dests = append $dests "redis" }}{{ end -}}
{{- if $v.config.otlpEndpoint }}{{ $dests = append $dests "otlpCollector" }}{{ end -}}
{{- if and (eq .key "base") (include "marquee.mediaInBucket" .root) }}{{ $dests = append $dests "objectStorage" }}{{ end -}}
{{- if and (has .key (list "auth" "base")) $v.mail.smtpSecretKey }}{{ $dests = append $dests "smtp" }}{{ end -}}
{{- if eq .key "base" }}{{ $dests = append $dests "webhooks" }}{{ end -}}
{{- range $dests }}
{{- include "marquee.egressTo" (dict "root" $.root "dest" .) }}
{{- end }}
{{- end -}}
