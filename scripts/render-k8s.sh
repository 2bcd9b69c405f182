#!/usr/bin/env bash
# Renders the plain manifests under k8s/base from the Helm chart, so operators
# without Helm apply the very same objects (kubectl apply -k k8s/overlays/…).
# The test run fails when the committed file and the chart differ.
set -euo pipefail
cd "$(dirname "$0")/.."
helm="${HELM:-.tools/helm/helm}"
[[ -x "$helm" ]] || { echo "helm not found: run scripts/deploy-tools.sh" >&2; exit 1; }
"$helm" template marquee deploy/helm/marquee --kube-version 1.31.0 -f k8s/values.yaml > k8s/base/marquee.yaml
echo "k8s/base/marquee.yaml rendered"
