#!/usr/bin/env python3
"""Prints, as one JSON object, the command-line arguments and environment each
service is started with in four renders of the deployment, so a test can start
the real binaries exactly as a cluster would (replacing secret references by
test values and addresses by loopback ports).

Renders (the top-level keys):

    chart-default          helm template of deploy/helm/marquee with its default values
    chart-production       the same with values-production.yaml
    kustomize-development  kubectl kustomize k8s/overlays/development
    kustomize-production   kubectl kustomize k8s/overlays/production

(the overlays build on the committed k8s/base/marquee.yaml, which
scripts/render-k8s.sh renders from the chart).

Shape:

    {
      "<render>": {
        "<service>": {                      # auth, platform-core, base, financial
          "deployment": {"args": [...], "env": [...]},
          "migrate": {"args": [...], "env": [...]} or null,
          "volumes_mounts": ["/tmp", ...]
        }
      }
    }

- "args" is the container's args as rendered ([] when it has none); the image's
  entrypoint is the service's binary.
- "env" is the container's env list exactly as rendered, in order: each entry
  is {"name", "value"} or {"name", "valueFrom"} where valueFrom holds a
  secretKeyRef {name, key[, optional]}, a configMapKeyRef or a fieldRef.
- "migrate" is the service's migration Job container, or null when the render
  has none for the service.
- "volumes_mounts" is every mountPath of the service's Deployment and migration
  Job containers, sorted and without repeats (directories the process expects
  to exist; a read-only Secret mount holds the files its env names).

Tools: helm and kubectl from .tools/ (scripts/deploy-tools.sh), or the paths
in $HELM and $KUBECTL."""

import json
import sys

import yaml

from tools import CHART, KUBE_VERSION, ROOT, run as run_text, tool


def run(*cmd):
    return [d for d in yaml.safe_load_all(run_text(*cmd)) if d]


def container(obj):
    return obj["spec"]["template"]["spec"]["containers"][0]


def launch(c):
    return {"args": list(c.get("args", [])), "env": list(c.get("env", []))}


def services(docs):
    out = {}
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        name = d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        out[name] = {"deployment": launch(container(d)), "migrate": None, "volumes_mounts": []}
        out[name]["_mounts"] = [m["mountPath"] for m in container(d).get("volumeMounts", [])]
    for d in docs:
        labels = d["metadata"].get("labels", {})
        if d["kind"] == "Job" and labels.get("app.kubernetes.io/component") == "migrate":
            name = labels["app.kubernetes.io/name"]
            if name in out:
                out[name]["migrate"] = launch(container(d))
                out[name]["_mounts"] += [m["mountPath"] for m in container(d).get("volumeMounts", [])]
    for entry in out.values():
        entry["volumes_mounts"] = sorted(set(entry.pop("_mounts")))
    return out


def main():
    helm = tool("HELM", "helm/helm")
    kubectl = tool("KUBECTL", "kubectl/kubectl")
    template = [helm, "template", "marquee", str(CHART), "--kube-version", KUBE_VERSION]
    renders = {
        "chart-default": run(*template),
        "chart-production": run(*template, "-f", str(CHART / "values-production.yaml")),
        "kustomize-development": run(kubectl, "kustomize", str(ROOT / "k8s" / "overlays" / "development")),
        "kustomize-production": run(kubectl, "kustomize", str(ROOT / "k8s" / "overlays" / "production")),
    }
    json.dump({label: services(docs) for label, docs in renders.items()}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
