#!/usr/bin/env python3
"""Renders the Helm chart (default, evaluation, production and every-option
values) and the kustomize overlays, validates every object against the
Kubernetes schemas offline, and checks what the fleet promises of its
deployment:

- non-root read-only pods with probes and resources, secrets only by reference;
- NetworkPolicies that allow exactly the call graph, with egress to the media
  bucket for base only and to the SMTP relay for the mail senders (auth and
  base) only;
- every environment value a plain string, numbers as integers (never
  2.62144e+07), SHUTDOWN_DRAIN_SECS everywhere and TRUSTED_PROXIES on auth, each
  sealing key on its own service alone (SIGNING_KEY_ENCRYPTION_KEY on auth,
  TICKET_KEY_ENCRYPTION_KEY on base), the same mail settings on auth and base
  and on no other service (SMTP_URL from a Secret, or MAIL_DIR on a writable
  volume), base's WAITLIST_OFFER_HOURS and RESERVATION_MINUTES as whole
  numbers, gRPC peers reached through headless Services, the Redis authority
  mounted where named;
- PodDisruptionBudgets that let a drain evict a pod at the fewest replicas, no
  replica count fighting an autoscaler, pods spread over zones and nodes;
- a preStop sleep, a readiness probe quick to notice a drain, and a grace
  period longer than both plus the drain;
- migration Jobs scheduled like the pods, and (plain manifests) named after
  their image tag, so an image bump applies;
- Ingress paths: only the /v1 API (and auth's published keys), platform-core
  and auth's /v1/admin on the operator host only, every documented path
  routed, never /, /metrics, /readyz, /healthz or /openapi.json, and a body
  limit that lets MEDIA_MAX_BYTES through;
- ServiceMonitors in the shape the Prometheus Operator takes (checked by hand:
  the bundled schemas do not know that kind);
- the render refuses combinations that cannot work, naming the values;
- the chart's README is what scripts/chart-readme.py writes, the plain
  manifests are the chart rendered with k8s/values.yaml, and
  tests/deploy/rendered_env.py answers in its documented shape;
- the Dockerfile and the compose file (health checks, start order, traces).

Needs helm and kubectl (scripts/deploy-tools.sh installs both under .tools/)
and the PyPI packages kubernetes-validate and openapi-spec-validator. Exits
non-zero naming each problem it finds."""

import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import kubernetes_validate
import yaml

from tools import CHART, KUBE_VERSION, ROOT, run, tool

# Who may connect to whom, and on which named port: the call graph of DESIGN §1,
# plus the published signing keys (JWKS) fetched over http from auth.
CALL_GRAPH = {
    ("base", "auth", "grpc"),
    ("financial", "auth", "grpc"),
    ("auth", "platform-core", "grpc"),
    ("base", "financial", "grpc"),
    ("base", "auth", "http"),
    ("financial", "auth", "http"),
    ("platform-core", "auth", "http"),
}
PORTS = {
    "auth": {"http": 8081, "grpc": 9081},
    "platform-core": {"http": 8082, "grpc": 9082},
    "base": {"http": 8083},
    "financial": {"http": 8084, "grpc": 9084},
}
GRPC_URL_VARS = {"AUTH_GRPC_URL": "auth", "PLATFORM_CORE_GRPC_URL": "platform-core", "FINANCIAL_GRPC_URL": "financial"}
# The keys that seal what a service keeps at rest (required; each read by one service alone).
SEALING_KEYS = {"SIGNING_KEY_ENCRYPTION_KEY": "auth", "TICKET_KEY_ENCRYPTION_KEY": "base"}
# The services that send mail, and what they read to do it (the same settings on each).
MAIL_SENDERS = {"auth", "base"}
MAIL_VARS = ("SMTP_URL", "MAIL_DIR", "MAIL_FROM", "PUBLIC_WEB_URL")
# base's plain settings, whole numbers.
BASE_NUMBERS = ("WAITLIST_OFFER_HOURS", "RESERVATION_MINUTES")
SECRET_LIKE = re.compile(r"TOKEN|KEY|PASSWORD|SECRET|DATABASE_URL|REDIS_URL|SMTP_URL")
SCIENTIFIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")
# Egress ports that mean the media bucket, and the SMTP relay.
OBJECT_STORAGE_PORTS = {443}
SMTP_PORTS = {25, 465, 587, 2525}
# Never routed from outside (unless asked: the documents under /openapi/<service>.json).
PRIVATE_PATHS = ("/", "/metrics", "/readyz", "/healthz", "/openapi.json")
# Documented paths another service's route serves on the same host (both base and financial list their permissions).
UNROUTED = {("financial", "/v1/meta/permissions")}
REDIS_CA_DIR = "/etc/marquee/redis-ca"

# Values that turn on every option at once (a render no example file makes).
EVERY_OPTION = {
    "image": {"tag": "0.2.0", "pullPolicy": "Always"},
    "imagePullSecrets": [{"name": "registry"}],
    "secrets": {"redisCaName": "marquee-redis-ca", "mediaName": "marquee-media"},
    "config": {"otlpEndpoint": "http://collector.observability:4317", "adminEmail": "ops@example.com"},
    "mail": {"from": "Marquee <no-reply@example.com>"},
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "ingress": {"exposeDocs": True, "tlsSecretName": "api-tls", "operatorTlsSecretName": "platform-tls"},
    "serviceAccount": {"create": False, "name": "marquee-runner"},
    "nodeSelector": {"pool": "services"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "marquee", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["services"]}]}}]}},
    "topologySpreadConstraints": [{"maxSkew": 2, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"}],
    "shutdown": {"drainSeconds": 10, "preStopSleepSeconds": 8},
    "terminationGracePeriodSeconds": 60,
    "services": {
        "financial": {"autoscaling": {"enabled": False}, "replicas": 3, "pdb": {"enabled": True, "minAvailable": 2}},
        "platformCore": {"env": {"HEARTBEAT_INTERVAL_MS": 1000000}},
        "base": {"media": {"maxBytes": 104857600, "s3": {"bucket": "media", "region": "eu-west-1", "endpoint": "https://s3.example.com"}}},
    },
}

# Values the render must refuse, with a word its message must contain.
REFUSED = [
    ("more replicas than one without Redis", ["--set", "secrets.redisName="], "secrets.redisName"),
    ("an autoscaler that may add a replica without Redis",
     ["--set", "secrets.redisName=", "--set", "services.auth.replicas=1"], "secrets.redisName"),
    ("auth with no SMTP relay, mail in the pod not allowed", ["--set", "mail.smtpSecretKey="], "mail.allowPodDirectory"),
    ("base with no SMTP relay (auth not deployed), mail in the pod not allowed",
     ["--set", "mail.smtpSecretKey=", "--set", "services.auth.enabled=false"], "mail.allowPodDirectory"),
    ("a grace period shorter than preStop + drain + 10", ["--set", "terminationGracePeriodSeconds=20"], "terminationGracePeriodSeconds"),
    ("a body limit below MEDIA_MAX_BYTES",
     ["--set-string", "ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-body-size=10m"], "proxy-body-size"),
    ("a PodDisruptionBudget that blocks every drain", ["--set", "services.auth.pdb.minAvailable=2"], "no pod to evict"),
    ("a log format no service reads", ["--set", "config.logFormat=xml"], "logFormat"),
    ("a number that is not a whole number", ["--set", "services.base.media.maxBytes=1.5"], "maxBytes"),
    ("an unknown value", ["--set", "services.auth.replica=3"], "replica"),
    ("an extra variable the chart sets itself", ["--set", "services.auth.env.LOG_LEVEL=debug"], "LOG_LEVEL"),
]

problems = []


def documents(text):
    return [d for d in yaml.safe_load_all(text) if d]


def validate(label, docs):
    for d in docs:
        name = f"{label}: {d.get('kind')}/{d.get('metadata', {}).get('name')}"
        if d.get("kind") == "ServiceMonitor":
            continue  # a custom resource: check_service_monitors reads it by hand
        try:
            kubernetes_validate.validate(d, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{name}: {e.message} at {'.'.join(str(p) for p in e.path)}")
        except Exception as e:  # an unknown kind or version is a problem too
            problems.append(f"{name}: {e}")


def of_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def pod_specs(docs):
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            yield d, d["spec"]["template"]["spec"]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def service_of(selector):
    return selector.get("matchLabels", {}).get("app.kubernetes.io/name")


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def check_pods(label, docs):
    for d, spec in pod_specs(docs):
        name = f"{label}: {d['kind']}/{d['metadata']['name']}"
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{name}: pod does not require a non-root user")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: mounts a service account token it never uses")
        for c in spec["containers"]:
            sc = c.get("securityContext", {})
            if not sc.get("readOnlyRootFilesystem"):
                problems.append(f"{name}/{c['name']}: root filesystem is writable")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}/{c['name']}: privilege escalation allowed")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                problems.append(f"{name}/{c['name']}: capabilities not dropped")
            if not c.get("resources", {}).get("limits") or not c.get("resources", {}).get("requests"):
                problems.append(f"{name}/{c['name']}: no resource requests and limits")
            if d["kind"] == "Deployment":
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    if probe not in c:
                        problems.append(f"{name}/{c['name']}: no {probe}")
            for e in c.get("env", []):
                if SECRET_LIKE.search(e["name"]) and "secretKeyRef" not in e.get("valueFrom", {}):
                    problems.append(f"{name}/{c['name']}: {e['name']} is not read from a Secret")


def check_env(label, docs):
    """Every value a string that says what it means; the variables every service needs."""
    headless = {
        s["metadata"]["name"]: s for s in of_kind(docs, "Service") if s["spec"].get("clusterIP") == "None"
    }
    for d, spec in pod_specs(docs):
        name = f"{label}: {d['kind']}/{d['metadata']['name']}"
        for c in spec["containers"]:
            env = c.get("env", [])
            names = [e["name"] for e in env]
            for dup in sorted({n for n in names if names.count(n) > 1}):
                problems.append(f"{name}: {dup} is set twice")
            for e in env:
                if "value" in e:
                    if not isinstance(e["value"], str):
                        problems.append(f"{name}: {e['name']} is {e['value']!r}, not a string")
                    elif SCIENTIFIC.match(e["value"].strip()):
                        problems.append(f"{name}: {e['name']} is {e['value']!r}, a number in scientific notation")
            byname = env_of(c)
            if "SHUTDOWN_DRAIN_SECS" not in byname:
                problems.append(f"{name}: no SHUTDOWN_DRAIN_SECS")
            service = d["metadata"].get("labels", {}).get("app.kubernetes.io/name")
            for var, owner in SEALING_KEYS.items():
                if (service == owner) != (var in byname):
                    problems.append(f"{name}: {var} belongs to {owner}, and {owner} alone")
            # Only auth reads client addresses; elsewhere the setting would mislead.
            is_auth = service == "auth"
            if is_auth != ("TRUSTED_PROXIES" in byname):
                problems.append(f"{name}: TRUSTED_PROXIES belongs to auth, and auth alone")
            if "TRUST_FORWARDED_FOR" in byname:
                problems.append(f"{name}: sets TRUST_FORWARDED_FOR, replaced by TRUSTED_PROXIES")
            for var in ("SHUTDOWN_DRAIN_SECS", "MEDIA_MAX_BYTES", *BASE_NUMBERS):
                if var in byname and not re.fullmatch(r"\d+", byname[var].get("value", "")):
                    problems.append(f"{name}: {var} is {byname[var].get('value')!r}, not a whole number")
            for var in BASE_NUMBERS:
                if (service == "base") != (var in byname):
                    problems.append(f"{name}: {var} belongs to base, and base alone")
            check_mail_env(name, service, byname, c)
            for var, service in GRPC_URL_VARS.items():
                url = byname.get(var, {}).get("value")
                if url is None:
                    problems.append(f"{name}: no {var}")
                    continue
                m = re.fullmatch(r"http://([a-z0-9-]+):(\d+)", url)
                svc = headless.get(m.group(1)) if m else None
                if not m or not m.group(1).endswith(f"-{service}-grpc"):
                    problems.append(f"{name}: {var}={url} is not {service}'s headless gRPC Service")
                elif svc is None:
                    problems.append(f"{name}: {var}={url} names a headless Service the render lacks")
                elif int(m.group(2)) not in [p["port"] for p in svc["spec"]["ports"]]:
                    problems.append(f"{name}: {var}={url} names a port its Service does not serve")
            mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
            ca = byname.get("REDIS_CA_CERT_FILE")
            if ca is not None:
                if ca.get("value") != f"{REDIS_CA_DIR}/ca.crt":
                    problems.append(f"{name}: REDIS_CA_CERT_FILE is {ca.get('value')!r}, not {REDIS_CA_DIR}/ca.crt")
                mount = mounts.get(REDIS_CA_DIR)
                volume = next((v for v in spec.get("volumes", []) if mount and v["name"] == mount["name"]), None)
                if not mount or not mount.get("readOnly") or not volume or "secret" not in volume:
                    problems.append(f"{name}: REDIS_CA_CERT_FILE names a file no read-only Secret volume provides")
                if "REDIS_URL" not in byname:
                    problems.append(f"{name}: REDIS_CA_CERT_FILE without REDIS_URL")
            elif REDIS_CA_DIR in mounts:
                problems.append(f"{name}: mounts the Redis authority but never names it (REDIS_CA_CERT_FILE)")
    # The headless Services: one per gRPC server, only its gRPC port, the pods' own selector.
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    for d in deployments.values():
        service = d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        if "grpc" not in PORTS[service]:
            continue
        grpc = [s for s in headless.values() if s["spec"]["selector"] == d["spec"]["selector"]["matchLabels"]]
        if len(grpc) != 1:
            problems.append(f"{label}: {service} has {len(grpc)} headless gRPC Services, not one")
            continue
        s = grpc[0]
        if s["metadata"]["name"] != f"{d['metadata']['name']}-grpc":
            problems.append(f"{label}: {service}'s headless Service is {s['metadata']['name']}, not {d['metadata']['name']}-grpc")
        if [p.get("name") for p in s["spec"]["ports"]] != ["grpc"]:
            problems.append(f"{label}: {s['metadata']['name']} serves more than the gRPC port")
        if s["spec"].get("publishNotReadyAddresses"):
            problems.append(f"{label}: {s['metadata']['name']} lists pods that are not ready")
        plain = [x for x in of_kind(docs, "Service") if x["metadata"]["name"] == d["metadata"]["name"]]
        if not plain or plain[0]["spec"].get("clusterIP") == "None" or "http" not in [p.get("name") for p in plain[0]["spec"]["ports"]]:
            problems.append(f"{label}: {service} has no ClusterIP Service for http")


def check_mail_env(name, service, byname, container):
    """auth and base send mail: over SMTP (a Secret's URL) or as files in a writable MAIL_DIR, with links to the web app."""
    mail = {var: byname[var] for var in MAIL_VARS if var in byname}
    if service not in MAIL_SENDERS:
        if mail:
            problems.append(f"{name}: sets {sorted(mail)}, but only {sorted(MAIL_SENDERS)} send mail")
        return
    if "PUBLIC_WEB_URL" not in mail:
        problems.append(f"{name}: no PUBLIC_WEB_URL, so links in {service}'s mail point nowhere")
    if "SMTP_URL" in mail:
        if "secretKeyRef" not in mail["SMTP_URL"].get("valueFrom", {}):
            problems.append(f"{name}: SMTP_URL is not read from a Secret")
        if "MAIL_DIR" in mail:
            problems.append(f"{name}: sets MAIL_DIR beside SMTP_URL, which it never reads")
    elif "MAIL_DIR" not in mail:
        problems.append(f"{name}: neither SMTP_URL nor MAIL_DIR, so {service} writes mail into ./data/mail on a read-only filesystem")
    else:
        directory = mail["MAIL_DIR"].get("value", "")
        mounts = [m["mountPath"].rstrip("/") for m in container.get("volumeMounts", []) if not m.get("readOnly")]
        if not any(directory == m or directory.startswith(m + "/") for m in mounts):
            problems.append(f"{name}: MAIL_DIR {directory!r} is on no writable volume")


def check_mail_alike(label, docs):
    """Every mail sender reads the very same mail settings (one relay, one sender, one web app)."""
    seen = {}
    for d, spec in pod_specs(docs):
        service = d["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        if service in MAIL_SENDERS:
            byname = env_of(spec["containers"][0])
            seen.setdefault(service, {var: byname.get(var) for var in MAIL_VARS})
    if len(set(json.dumps(s, sort_keys=True) for s in seen.values())) > 1:
        problems.append(f"{label}: the mail senders read different mail settings: {seen}")


def check_shutdown(label, docs):
    for d in of_kind(docs, "Deployment"):
        name = f"{label}: Deployment/{d['metadata']['name']}"
        spec = d["spec"]["template"]["spec"]
        grace = spec.get("terminationGracePeriodSeconds", 30)
        for c in spec["containers"]:
            sleep = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds")
            if sleep is None:
                problems.append(f"{name}: no preStop sleep, so a pod may be stopped while still in a load balancer")
                sleep = 0
            drain = int(env_of(c).get("SHUTDOWN_DRAIN_SECS", {}).get("value", "0") or 0)
            if grace <= sleep + drain + 10:
                problems.append(f"{name}: terminationGracePeriodSeconds {grace} is not above preStop {sleep} + drain {drain} + 10")
            ready = c.get("readinessProbe", {})
            notice = ready.get("periodSeconds", 10) * ready.get("failureThreshold", 3)
            if notice > max(2, drain):
                problems.append(f"{name}: readiness notices a drain only after {notice}s (SHUTDOWN_DRAIN_SECS {drain})")


def check_scaling(label, docs):
    deployments = of_kind(docs, "Deployment")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")}
    fewest = {}
    for d in deployments:
        name = d["metadata"]["name"]
        if name in hpas:
            if "replicas" in d["spec"]:
                problems.append(f"{label}: Deployment/{name} sets replicas that its autoscaler owns")
            fewest[name] = hpas[name]["spec"].get("minReplicas", 1)
            if hpas[name]["spec"]["minReplicas"] > hpas[name]["spec"]["maxReplicas"]:
                problems.append(f"{label}: HorizontalPodAutoscaler/{name}: minReplicas above maxReplicas")
        else:
            if "replicas" not in d["spec"]:
                problems.append(f"{label}: Deployment/{name} has neither replicas nor an autoscaler")
            fewest[name] = d["spec"].get("replicas", 1)
    for d in deployments:
        labels = d["spec"]["template"]["metadata"]["labels"]
        pdbs = [p for p in of_kind(docs, "PodDisruptionBudget") if selects(p["spec"]["selector"], labels)]
        if len(pdbs) != 1:
            problems.append(f"{label}: Deployment/{d['metadata']['name']} is covered by {len(pdbs)} PodDisruptionBudgets, not one")
    for p in of_kind(docs, "PodDisruptionBudget"):
        targets = [d for d in deployments if selects(p["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        for d in targets:
            n = fewest[d["metadata"]["name"]]
            spec = p["spec"]

            def scaled(v):
                return math.ceil(int(v[:-1]) * n / 100) if isinstance(v, str) else int(v)

            if "maxUnavailable" in spec:
                evictable = scaled(spec["maxUnavailable"])
            else:
                evictable = n - scaled(spec.get("minAvailable", 1))
            if evictable < 1:
                problems.append(
                    f"{label}: PodDisruptionBudget/{p['metadata']['name']} allows no eviction at {n} replicas of "
                    f"{d['metadata']['name']}: a node drain would hang"
                )


def check_spread(label, docs):
    for d in of_kind(docs, "Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        constraints = d["spec"]["template"]["spec"].get("topologySpreadConstraints", [])
        if not constraints:
            problems.append(f"{label}: Deployment/{d['metadata']['name']} does not spread its pods")
        for c in constraints:
            if not selects(c.get("labelSelector", {}), labels) or not c.get("labelSelector", {}).get("matchLabels"):
                problems.append(f"{label}: Deployment/{d['metadata']['name']}: a spread constraint does not select its own pods")


def check_jobs(label, docs):
    """Migration Jobs land where the pods land, as the same account."""
    deployments = {d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]: d for d in of_kind(docs, "Deployment")}
    jobs = [j for j in of_kind(docs, "Job") if j["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "migrate"]
    for j in jobs:
        service = j["metadata"]["labels"]["app.kubernetes.io/name"]
        d = deployments.get(service)
        if d is None:
            problems.append(f"{label}: Job/{j['metadata']['name']} migrates {service}, which is not deployed")
            continue
        js, ds = j["spec"]["template"]["spec"], d["spec"]["template"]["spec"]
        for field in ("imagePullSecrets", "nodeSelector", "tolerations", "affinity", "serviceAccountName"):
            if js.get(field) != ds.get(field):
                problems.append(f"{label}: Job/{j['metadata']['name']}: {field} {js.get(field)!r} is not the pods' {ds.get(field)!r}")
        if js["containers"][0]["image"] != ds["containers"][0]["image"]:
            problems.append(f"{label}: Job/{j['metadata']['name']} runs another image than {service}")
        job_env = {e["name"] for e in js["containers"][0].get("env", [])}
        pod_env = {e["name"] for e in ds["containers"][0].get("env", [])}
        if job_env != pod_env:
            problems.append(f"{label}: Job/{j['metadata']['name']} reads another environment than {service}: {sorted(job_env ^ pod_env)}")
    if len(jobs) != len(deployments):
        problems.append(f"{label}: {len(jobs)} migration Jobs for {len(deployments)} services")


def port_name(service, port):
    if isinstance(port, str):
        return port
    return next((n for n, p in PORTS[service].items() if p == port), str(port))


def check_network(label, docs):
    policies = of_kind(docs, "NetworkPolicy")
    pods = {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    jobs = [d["spec"]["template"]["metadata"]["labels"] for d in of_kind(docs, "Job")]
    for service, labels in pods.items():
        denies = [
            p for p in policies
            if selects(p["spec"]["podSelector"], labels)
            and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")
        ]
        if not denies:
            problems.append(f"{label}: no default-deny policy covers {service}")
    allowed_in, allowed_out = set(), set()
    for p in policies:
        targets = [s for s, labels in pods.items() if selects(p["spec"]["podSelector"], labels)]
        for target in targets:
            for rule in p["spec"].get("ingress", []):
                for peer in rule.get("from", []):
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        caller = service_of(peer["podSelector"])
                        for port in rule.get("ports", [{"port": "any"}]):
                            allowed_in.add((caller, target, port_name(target, port["port"])))
            for rule in p["spec"].get("egress", []):
                for peer in rule.get("to", []):
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        callee = service_of(peer["podSelector"])
                        for port in rule.get("ports", [{"port": "any"}]):
                            allowed_out.add((target, callee, port_name(callee, port["port"])))
    expected = {edge for edge in CALL_GRAPH if edge[0] in pods and edge[1] in pods}
    for side, allowed in (("ingress", allowed_in), ("egress", allowed_out)):
        for extra in sorted(allowed - expected):
            problems.append(f"{label}: {side} allows {extra[0]} -> {extra[1]} ({extra[2]}), outside the call graph")
        for missing in sorted(expected - allowed):
            problems.append(f"{label}: {side} blocks {missing[0]} -> {missing[1]} ({missing[2]}), a call the fleet makes")
    # Egress outside the cluster: named ports only; the bucket for base, the SMTP relay for the mail senders.
    reach = {}
    for p in policies:
        who = [s for s, labels in pods.items() if selects(p["spec"]["podSelector"], labels)]
        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component") == "migrate":
            who = ["migrate"] if any(selects(p["spec"]["podSelector"], j) for j in jobs) else []
        elif not p["spec"].get("egress"):
            continue
        for rule in p["spec"].get("egress", []):
            if not any("ipBlock" in peer for peer in rule.get("to", [])):
                continue
            if not rule.get("ports"):
                problems.append(f"{label}: NetworkPolicy/{p['metadata']['name']} opens every port to {rule['to']}")
                continue
            for w in who:
                reach.setdefault(w, set()).update(int(x["port"]) for x in rule["ports"])
    for who, ports in sorted(reach.items()):
        if ports & OBJECT_STORAGE_PORTS and who != "base":
            problems.append(f"{label}: {who} may reach the media bucket (port {sorted(ports & OBJECT_STORAGE_PORTS)}); only base needs it")
        if ports & SMTP_PORTS and who not in MAIL_SENDERS:
            problems.append(f"{label}: {who} may reach an SMTP relay (port {sorted(ports & SMTP_PORTS)}); only {sorted(MAIL_SENDERS)} send mail")
    return reach


def media_max_bytes(docs):
    for d in of_kind(docs, "Deployment"):
        value = env_of(d["spec"]["template"]["spec"]["containers"][0]).get("MEDIA_MAX_BYTES", {}).get("value")
        if value is not None:
            return int(value) if value.isdigit() else None
    return None


def nginx_bytes(size):
    m = re.fullmatch(r"(\d+)([kmg]?)", str(size).strip().lower())
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2)]


def check_ingress(label, docs, openapi):
    ingresses = of_kind(docs, "Ingress")
    services = {
        s["metadata"]["name"]: s["spec"]["selector"].get("app.kubernetes.io/name")
        for s in of_kind(docs, "Service")
    }
    limit_needed = media_max_bytes(docs)
    api = [i for i in ingresses if "rewrite-target" not in str(i["metadata"].get("annotations", {}))]
    hosts = {}  # host -> {service: [paths]}
    for ing in ingresses:
        name = f"{label}: Ingress/{ing['metadata']['name']}"
        annotations = ing["metadata"].get("annotations", {})
        docs_ingress = ing not in api
        if ing["spec"].get("ingressClassName") == "nginx" and limit_needed and not docs_ingress:
            size = annotations.get("nginx.ingress.kubernetes.io/proxy-body-size")
            limit = nginx_bytes(size) if size is not None else 1024**2
            if limit is None or (limit != 0 and limit < limit_needed):
                problems.append(f"{name}: body limit {size or 'nginx default 1m'} is below MEDIA_MAX_BYTES {limit_needed}")
        for rule in ing["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                p, service = path["path"], services.get(path["backend"]["service"]["name"])
                if service is None:
                    problems.append(f"{name}: {p} goes to {path['backend']['service']['name']}, no Service of the render")
                    continue
                if path["backend"]["service"].get("port", {}).get("name") != "http":
                    problems.append(f"{name}: {p} goes to a port other than http")
                if p in PRIVATE_PATHS or p.rstrip("/") == "" or (path["pathType"] == "Prefix" and any(
                    x.startswith(p.rstrip("/") + "/") for x in PRIVATE_PATHS if x != "/"
                )):
                    problems.append(f"{name}: routes {p} ({path['pathType']}), which stays inside the cluster")
                if docs_ingress:
                    if p != f"/openapi/{service}.json" or path["pathType"] != "Exact":
                        problems.append(f"{name}: {p} is not {service}'s document path")
                    continue
                if not (p.startswith("/v1/") or (service == "auth" and p == "/.well-known")):
                    problems.append(f"{name}: routes {p}, outside the /v1 API")
                hosts.setdefault(rule["host"], {}).setdefault(service, []).append(p)
    if not api:
        return
    operator = [h for h, routes in hosts.items() if "platform-core" in routes]
    clients = [h for h in hosts if h not in operator]
    for h in operator:
        for service, paths in hosts[h].items():
            if service == "auth":
                if paths != ["/v1/admin"]:
                    problems.append(f"{label}: the operator host {h} routes auth's {paths}, more than /v1/admin")
            elif service != "platform-core":
                problems.append(f"{label}: the operator host {h} routes {service}")
    for h in clients:
        if "platform-core" in hosts[h]:
            problems.append(f"{label}: the client host {h} routes platform-core")
        if "/v1/admin" in hosts[h].get("auth", []):
            problems.append(f"{label}: the client host {h} routes auth's /v1/admin")
    # Every documented path reaches its service (element-wise prefix match, as Ingress Prefix does).
    for service, paths in openapi.items():
        if service not in {s for r in hosts.values() for s in r}:
            continue
        for documented in paths:
            if (service, documented) in UNROUTED:
                continue
            routed = [
                p for r in hosts.values() for p in r.get(service, [])
                if documented == p or documented.startswith(p.rstrip("/") + "/")
            ]
            if not routed:
                problems.append(f"{label}: {service}'s {documented} is not routed")


def check_service_monitors(label, docs):
    """ServiceMonitor is a custom resource; its shape is checked here."""
    services = of_kind(docs, "Service")
    for m in of_kind(docs, "ServiceMonitor"):
        name = f"{label}: ServiceMonitor/{m.get('metadata', {}).get('name')}"
        if m.get("apiVersion") != "monitoring.coreos.com/v1":
            problems.append(f"{name}: apiVersion {m.get('apiVersion')} is not monitoring.coreos.com/v1")
        if set(m) - {"apiVersion", "kind", "metadata", "spec"}:
            problems.append(f"{name}: unexpected fields {sorted(set(m) - {'apiVersion', 'kind', 'metadata', 'spec'})}")
        meta = m.get("metadata", {})
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", meta.get("name", "")) or len(meta.get("name", "")) > 63:
            problems.append(f"{name}: not a valid name")
        if not all(isinstance(v, str) for v in meta.get("labels", {}).values()):
            problems.append(f"{name}: a label value is not a string")
        spec = m.get("spec", {})
        if set(spec) - {"selector", "endpoints", "namespaceSelector", "jobLabel"}:
            problems.append(f"{name}: unexpected spec fields {sorted(set(spec) - {'selector', 'endpoints', 'namespaceSelector', 'jobLabel'})}")
        selected = [s for s in services if selects(spec.get("selector", {}), s["metadata"].get("labels", {}))]
        if len(selected) != 1:
            problems.append(f"{name}: selects {len(selected)} Services, not one")
        endpoints = spec.get("endpoints")
        if not isinstance(endpoints, list) or not endpoints:
            problems.append(f"{name}: no endpoints")
            continue
        for e in endpoints:
            if set(e) - {"port", "path", "interval", "scrapeTimeout", "scheme"}:
                problems.append(f"{name}: unexpected endpoint fields {sorted(set(e) - {'port', 'path', 'interval', 'scrapeTimeout', 'scheme'})}")
            if e.get("path") != "/metrics":
                problems.append(f"{name}: scrapes {e.get('path')}, not /metrics")
            for duration in ("interval", "scrapeTimeout"):
                if duration in e and not re.fullmatch(r"(\d+(ms|s|m|h))+", str(e[duration])):
                    problems.append(f"{name}: {duration} {e[duration]!r} is not a duration")
            if selected and e.get("port") not in [p.get("name") for p in selected[0]["spec"]["ports"]]:
                problems.append(f"{name}: port {e.get('port')!r} is not a port of {selected[0]['metadata']['name']}")


def check_images():
    """The Dockerfile and the compose file, read statically (no engine runs here)."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    if len(stages) < 2:
        problems.append("deploy/Dockerfile: not a multi-stage build")
    final = dockerfile[dockerfile.rfind("\nFROM "):]
    user = re.findall(r"^USER\s+(\S+)", final, re.M)
    if not user or user[-1].split(":")[0] in ("0", "root"):
        problems.append("deploy/Dockerfile: the final image does not run as a non-root user")
    if not re.search(r'^ENTRYPOINT \["', final, re.M):
        problems.append("deploy/Dockerfile: ENTRYPOINT is not in exec form")
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    for needed in ("postgres", "redis", "otel-collector", "jaeger"):
        if needed not in services:
            problems.append(f"deploy/compose.yaml: no {needed}")
    # Each service starts once what it calls is healthy: platform-core, auth, financial, base.
    needs = {"platform-core": {"postgres", "redis"}, "auth": {"postgres", "redis", "platform-core"},
             "financial": {"postgres", "redis", "auth"}, "base": {"postgres", "redis", "auth", "financial"}}
    for name in PORTS:
        svc = services.get(name)
        if svc is None:
            problems.append(f"deploy/compose.yaml: no {name}")
            continue
        if svc.get("build", {}).get("args", {}).get("SERVICE") != name:
            problems.append(f"deploy/compose.yaml: {name} is not built from deploy/Dockerfile for itself")
        if str(svc.get("user", "0")).split(":")[0] in ("0", "root") or not svc.get("read_only"):
            problems.append(f"deploy/compose.yaml: {name} runs as root or with a writable root filesystem")
        env = svc.get("environment", {})
        for key, value in env.items():
            if SECRET_LIKE.search(key) and key not in ("DATABASE_URL", "REDIS_URL") and not str(value).startswith("${"):
                problems.append(f"deploy/compose.yaml: {name} has {key} written in, not taken from the environment")
            if isinstance(value, (int, float)) or SCIENTIFIC.match(str(value)):
                problems.append(f"deploy/compose.yaml: {name}: {key} should be a string")
        for key in ("SHUTDOWN_DRAIN_SECS", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            if key not in env:
                problems.append(f"deploy/compose.yaml: {name} has no {key}")
        for var, owner in SEALING_KEYS.items():
            if (name == owner) != (var in env):
                problems.append(f"deploy/compose.yaml: {var} belongs to {owner}, and {owner} alone")
        if (name == "auth") != ("TRUSTED_PROXIES" in env):
            problems.append(f"deploy/compose.yaml: TRUSTED_PROXIES belongs to auth, and auth alone")
        mail = {var: env[var] for var in MAIL_VARS if var in env}
        if name not in MAIL_SENDERS and mail:
            problems.append(f"deploy/compose.yaml: {name} sets {sorted(mail)}, but only {sorted(MAIL_SENDERS)} send mail")
        if name in MAIL_SENDERS:
            auth_env = services.get("auth", {}).get("environment", {})
            if mail != {var: auth_env[var] for var in MAIL_VARS if var in auth_env}:
                problems.append(f"deploy/compose.yaml: {name}'s mail settings {mail} are not auth's")
            if "SMTP_URL" not in mail and not mail.get("MAIL_DIR", "").startswith("/tmp/"):
                problems.append(f"deploy/compose.yaml: {name} has neither SMTP_URL nor a MAIL_DIR on its /tmp tmpfs (read-only root filesystem)")
        check = svc.get("healthcheck", {}).get("test")
        if check != ["CMD", "/usr/local/bin/marquee", "healthcheck"]:
            problems.append(f"deploy/compose.yaml: {name}'s health check is {check!r}, not the binary's own healthcheck (the image has no shell)")
        depends = svc.get("depends_on", {})
        for dep in needs[name]:
            if not isinstance(depends, dict) or depends.get(dep, {}).get("condition") != "service_healthy":
                problems.append(f"deploy/compose.yaml: {name} does not wait for {dep} to be healthy")
        if "otel-collector" not in depends:
            problems.append(f"deploy/compose.yaml: {name} does not start after the collector")
    collector = yaml.safe_load((ROOT / "deploy" / "compose" / "otel-collector.yaml").read_text())
    traces = collector.get("service", {}).get("pipelines", {}).get("traces", {})
    exporters = collector.get("exporters", {})
    otlp = [e for e in traces.get("exporters", []) if e.split("/")[0] == "otlp"]
    if not otlp:
        problems.append("deploy/compose/otel-collector.yaml: traces are exported to no OTLP backend")
    for e in otlp:
        endpoint = exporters.get(e, {}).get("endpoint", "")
        if not endpoint.startswith("jaeger:"):
            problems.append(f"deploy/compose/otel-collector.yaml: {e} exports to {endpoint!r}, not Jaeger")
    if "debug" not in traces.get("exporters", []):
        problems.append("deploy/compose/otel-collector.yaml: the debug exporter is gone")
    print("Dockerfile and compose file: checked")


def check_openapi():
    """The committed API documents are valid OpenAPI 3.1 (clients are generated from them)."""
    from openapi_spec_validator import validate as validate_openapi

    paths = {}
    for path in sorted((ROOT / "openapi").glob("*.json")):
        try:
            document = json.loads(path.read_text())
            validate_openapi(document)
            paths[path.stem] = sorted(document.get("paths", {}))
        except Exception as e:
            problems.append(f"{path.relative_to(ROOT)}: not valid OpenAPI: {str(e)[:400]}")
    print("OpenAPI documents: checked")
    return paths


def check_refusals(helm):
    for what, args, word in REFUSED:
        done = subprocess.run(
            [helm, "template", "marquee", str(CHART), "--kube-version", KUBE_VERSION, *args],
            capture_output=True, text=True,
        )
        if done.returncode == 0:
            problems.append(f"chart: renders {what} ({' '.join(args)}); it must refuse")
        elif word not in done.stderr:
            problems.append(f"chart: refuses {what} without naming {word}: {done.stderr.strip()[:300]}")
    print(f"chart refusals: {len(REFUSED)} checked")


def check_readme():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "chart-readme.py"), "--stdout"], capture_output=True, text=True)
    if done.returncode != 0:
        problems.append(f"scripts/chart-readme.py failed: {done.stderr.strip()[:400]}")
    elif (CHART / "README.md").read_text() != done.stdout:
        problems.append("deploy/helm/marquee/README.md differs from values.yaml: run scripts/chart-readme.py")


def migration_jobs(docs):
    return {
        j["metadata"]["labels"]["app.kubernetes.io/name"]: (j["metadata"]["name"], j["spec"]["template"]["spec"]["containers"][0]["image"])
        for j in of_kind(docs, "Job")
    }


def check_image_bump(kubectl):
    """An image bump under kustomize applies: each migration Job is a new Job named after its tag."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "k8s"
        shutil.copytree(ROOT / "k8s", copy)
        kustomization = copy / "overlays" / "production" / "kustomization.yaml"
        before = migration_jobs(documents(run(kubectl, "kustomize", str(kustomization.parent))))
        spec = yaml.safe_load(kustomization.read_text())
        for image in spec["images"]:
            image["newTag"] = "9.8.7-rc.1"
        kustomization.write_text(yaml.safe_dump(spec, sort_keys=False))
        after = migration_jobs(documents(run(kubectl, "kustomize", str(kustomization.parent))))
    if set(before) != set(PORTS) or set(after) != set(PORTS):
        problems.append(f"k8s overlay production: migration Jobs for {sorted(before)} / {sorted(after)}, not every service")
    for service in sorted(set(before) & set(after)):
        (old_name, old_image), (new_name, new_image) = before[service], after[service]
        if old_name == new_name:
            problems.append(f"k8s overlay production: {service}'s migration Job keeps its name {old_name} across an image bump, so apply would fail")
        if not new_image.endswith(":9.8.7-rc.1") or not new_name.endswith("-9.8.7-rc.1"):
            problems.append(f"k8s overlay production: after a bump to 9.8.7-rc.1, {service}'s migration Job is {new_name} running {new_image}")
        if not old_name.endswith("-" + old_image.rsplit(":", 1)[1]):
            problems.append(f"k8s overlay production: {old_name} is not named after its image {old_image}")
    print("k8s overlay production: an image bump checked")


def check_rendered_env():
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "deploy" / "rendered_env.py")], capture_output=True, text=True)
    if done.returncode != 0:
        problems.append(f"tests/deploy/rendered_env.py failed: {done.stderr.strip()[:400]}")
        return
    data = json.loads(done.stdout)
    for label in ("chart-default", "chart-production", "kustomize-development", "kustomize-production"):
        render = data.get(label)
        if not isinstance(render, dict) or set(render) != set(PORTS):
            problems.append(f"rendered_env.py: {label} does not list every service")
            continue
        for service, entry in render.items():
            if set(entry) != {"deployment", "migrate", "volumes_mounts"}:
                problems.append(f"rendered_env.py: {label}/{service} has keys {sorted(entry)}")
                continue
            for part in ("deployment", "migrate"):
                if entry[part] is not None and set(entry[part]) != {"args", "env"}:
                    problems.append(f"rendered_env.py: {label}/{service}/{part} has keys {sorted(entry[part])}")
            if not all(isinstance(m, str) and m.startswith("/") for m in entry["volumes_mounts"]):
                problems.append(f"rendered_env.py: {label}/{service} volumes_mounts are not paths")
    print("tests/deploy/rendered_env.py: answers in its documented shape")


def main():
    check_images()
    openapi = check_openapi()
    helm = tool("HELM", "helm/helm")
    kubectl = tool("KUBECTL", "kubectl/kubectl")
    check_readme()
    rendered = {}
    with tempfile.TemporaryDirectory() as tmp:
        every = Path(tmp) / "every-option.yaml"
        every.write_text(yaml.safe_dump(EVERY_OPTION))
        for label, extra in (
            ("chart (default values)", []),
            ("chart (evaluation values)", ["-f", str(CHART / "values-evaluation.yaml")]),
            ("chart (production values)", ["-f", str(CHART / "values-production.yaml")]),
            ("chart (every option)", ["-f", str(every)]),
        ):
            run(helm, "lint", "--strict", str(CHART), *extra)
            rendered[label] = documents(run(helm, "template", "marquee", str(CHART), "--kube-version", KUBE_VERSION, *extra))
    check_refusals(helm)
    # The plain manifests are the chart rendered with k8s/values.yaml: they never drift from it.
    base = ROOT / "k8s" / "base" / "marquee.yaml"
    fresh = run(helm, "template", "marquee", str(CHART), "--kube-version", KUBE_VERSION, "-f", str(ROOT / "k8s" / "values.yaml"))
    if base.read_text() != fresh:
        problems.append("k8s/base/marquee.yaml differs from the chart: run scripts/render-k8s.sh")
    for overlay in sorted((ROOT / "k8s" / "overlays").iterdir()):
        rendered[f"k8s overlay {overlay.name}"] = documents(run(kubectl, "kustomize", str(overlay)))
    for label, docs in rendered.items():
        kinds = {d["kind"] for d in docs}
        for needed in ("Deployment", "Service", "Job", "NetworkPolicy", "PodDisruptionBudget", "Ingress"):
            if needed not in kinds:
                problems.append(f"{label}: renders no {needed}")
        validate(label, docs)
        check_pods(label, docs)
        check_env(label, docs)
        check_mail_alike(label, docs)
        check_shutdown(label, docs)
        check_scaling(label, docs)
        check_spread(label, docs)
        check_jobs(label, docs)
        reach = check_network(label, docs)
        check_ingress(label, docs, openapi)
        check_service_monitors(label, docs)
        if label == "chart (production values)":
            if not reach.get("base", set()) & OBJECT_STORAGE_PORTS:
                problems.append(f"{label}: base cannot reach its media bucket")
            for sender in sorted(MAIL_SENDERS):
                if not reach.get(sender, set()) & SMTP_PORTS:
                    problems.append(f"{label}: {sender} cannot reach its SMTP relay")
        print(f"{label}: {len(docs)} objects checked")
    every = rendered["chart (every option)"]
    if len(of_kind(every, "ServiceMonitor")) != len(PORTS):
        problems.append("chart (every option): not one ServiceMonitor per service")
    if not any(i["metadata"]["name"].endswith("-docs") for i in of_kind(every, "Ingress")):
        problems.append("chart (every option): ingress.exposeDocs routes no document")
    for d, spec in pod_specs(every):
        wanted = {
            "imagePullSecrets": EVERY_OPTION["imagePullSecrets"],
            "nodeSelector": EVERY_OPTION["nodeSelector"],
            "tolerations": EVERY_OPTION["tolerations"],
            "affinity": EVERY_OPTION["affinity"],
            "serviceAccountName": EVERY_OPTION["serviceAccount"]["name"],
        }
        for field, value in wanted.items():
            if spec.get(field) != value:
                problems.append(f"chart (every option): {d['kind']}/{d['metadata']['name']}: {field} is {spec.get(field)!r}, not the values' {value!r}")
        if d["kind"] == "Deployment":
            keys = [c["topologyKey"] for c in spec.get("topologySpreadConstraints", [])]
            if keys != [c["topologyKey"] for c in EVERY_OPTION["topologySpreadConstraints"]]:
                problems.append(f"chart (every option): Deployment/{d['metadata']['name']} spreads over {keys}, not topologySpreadConstraints")
    if of_kind(every, "ServiceAccount"):
        problems.append("chart (every option): creates a ServiceAccount with serviceAccount.create false")
    for label in ("chart (default values)", "chart (production values)"):
        for d in of_kind(rendered[label], "Deployment"):
            keys = {c["topologyKey"] for c in d["spec"]["template"]["spec"].get("topologySpreadConstraints", [])}
            if keys != {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}:
                problems.append(f"{label}: Deployment/{d['metadata']['name']} spreads over {sorted(keys)}, not zones and nodes")
            if d["spec"]["template"]["spec"].get("serviceAccountName") != "marquee":
                problems.append(f"{label}: Deployment/{d['metadata']['name']} does not run as the release's service account")
    financial = next(d for d in of_kind(every, "Deployment") if d["metadata"]["name"] == "marquee-financial")
    if financial["spec"].get("replicas") != 3:
        problems.append("chart (every option): services.financial.replicas is not honoured with autoscaling off")
    if any(of_kind(docs, "ServiceMonitor") for label, docs in rendered.items() if label != "chart (every option)"):
        problems.append("a render without serviceMonitor.enabled has ServiceMonitors")
    check_image_bump(kubectl)
    check_rendered_env()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print("deployment manifests: valid")


if __name__ == "__main__":
    main()
