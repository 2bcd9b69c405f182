#!/usr/bin/env python3
"""Renders the Helm chart (default and production values) and the kustomize
overlays, validates every object against the Kubernetes schemas offline, and
checks what the fleet promises of its deployment: non-root read-only pods with
probes and resources, secrets only by reference, and NetworkPolicies that allow
exactly the call graph.

Needs helm and kubectl (scripts/deploy-tools.sh installs both under .tools/)
and the PyPI packages kubernetes-validate and openapi-spec-validator. Exits non-zero on the first class of
failure it finds, naming each problem."""

import os
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "marquee"
KUBE_VERSION = "1.31.0"

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
SECRET_LIKE = re.compile(r"TOKEN|KEY|PASSWORD|SECRET|DATABASE_URL|REDIS_URL|SMTP_URL")

problems = []


def tool(env, default):
    path = os.environ.get(env) or str(ROOT / ".tools" / default)
    if not Path(path).exists():
        sys.exit(f"{env}: {path} not found (run scripts/deploy-tools.sh)")
    return path


def run(*cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def documents(text):
    return [d for d in yaml.safe_load_all(text) if d]


def validate(label, docs):
    for d in docs:
        name = f"{label}: {d.get('kind')}/{d.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(d, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{name}: {e.message} at {'.'.join(str(p) for p in e.path)}")
        except Exception as e:  # an unknown kind or version is a problem too
            problems.append(f"{name}: {e}")


def pod_specs(docs):
    for d in docs:
        if d["kind"] == "Deployment":
            yield d, d["spec"]["template"]["spec"]
        elif d["kind"] == "Job":
            yield d, d["spec"]["template"]["spec"]


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


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def service_of(selector):
    return selector.get("matchLabels", {}).get("app.kubernetes.io/name")


def port_name(service, port):
    if isinstance(port, str):
        return port
    return next((n for n, p in PORTS[service].items() if p == port), str(port))


def check_network(label, docs):
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    pods = {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] == "Deployment"
    }
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
    for needed in ("postgres", "redis", "otel-collector"):
        if needed not in services:
            problems.append(f"deploy/compose.yaml: no {needed}")
    for name in PORTS:
        svc = services.get(name)
        if svc is None:
            problems.append(f"deploy/compose.yaml: no {name}")
            continue
        if svc.get("build", {}).get("args", {}).get("SERVICE") != name:
            problems.append(f"deploy/compose.yaml: {name} is not built from deploy/Dockerfile for itself")
        if str(svc.get("user", "0")).split(":")[0] in ("0", "root") or not svc.get("read_only"):
            problems.append(f"deploy/compose.yaml: {name} runs as root or with a writable root filesystem")
        for key, value in svc.get("environment", {}).items():
            if SECRET_LIKE.search(key) and key not in ("DATABASE_URL", "REDIS_URL") and not str(value).startswith("${"):
                problems.append(f"deploy/compose.yaml: {name} has {key} written in, not taken from the environment")
    print("Dockerfile and compose file: checked")


def check_openapi():
    """The committed API documents are valid OpenAPI 3.1 (clients are generated from them)."""
    from openapi_spec_validator import validate as validate_openapi

    for path in sorted((ROOT / "openapi").glob("*.json")):
        try:
            validate_openapi(__import__("json").loads(path.read_text()))
        except Exception as e:
            problems.append(f"{path.relative_to(ROOT)}: not valid OpenAPI: {str(e)[:400]}")
    print("OpenAPI documents: checked")


def main():
    check_images()
    check_openapi()
    helm = tool("HELM", "helm/helm")
    kubectl = tool("KUBECTL", "kubectl/kubectl")
    rendered = {}
    for label, extra in (("chart (default values)", []), ("chart (production values)", ["-f", str(CHART / "values-production.yaml")])):
        run(helm, "lint", "--strict", str(CHART), *extra)
        rendered[label] = documents(run(helm, "template", "marquee", str(CHART), "--kube-version", KUBE_VERSION, *extra))
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
        check_network(label, docs)
        print(f"{label}: {len(docs)} objects checked")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print("deployment manifests: valid")


if __name__ == "__main__":
    main()
