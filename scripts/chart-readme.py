#!/usr/bin/env python3
"""Writes deploy/helm/marquee/README.md from the chart's values.yaml.

The README is a short hand-written head (HEAD below) and a table of every
value: key, type, default and description. The description is the block of
comment lines directly above the key in values.yaml; the type comes from
values.schema.json (the values contract), the default from values.yaml.
A value the schema leaves open (a Kubernetes object passed through, such as
podSecurityContext) is one row with its whole default.

    scripts/chart-readme.py            rewrite the README
    scripts/chart-readme.py --stdout   print it instead
    scripts/chart-readme.py --check    exit 1 when the committed README differs

tests/deploy/check.py fails when the committed README is not what this
script writes, so edit values.yaml (or HEAD) and run it again."""

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "marquee"

HEAD = """\
# The Marquee chart

Installs the Marquee service fleet (auth, platform-core, base, financial) on
Kubernetes 1.30 or later: a Deployment, a Service, a headless gRPC Service
(auth, platform-core, financial), an autoscaler and a PodDisruptionBudget per
service, a migration Job per service (a Helm hook before install and upgrade),
an Ingress for clients and one host for platform operators, NetworkPolicies
that allow only the call graph, and optionally a ServiceMonitor per service.
PostgreSQL (one database per service), Redis and the Secrets the fleet reads
are provided outside the chart.

The Secrets come first (the migration Jobs wait for them); the notes printed
after the install repeat these commands for the values given, and say how to
follow the migrations, readiness and the first sign-in:

```sh
kubectl create secret generic marquee-secrets \\
  --from-literal=INTERNAL_SERVICE_TOKEN="$(openssl rand -hex 32)" \\
  --from-literal=SIGNING_KEY_ENCRYPTION_KEY="$(openssl rand -base64 32)" \\
  --from-literal=TICKET_KEY_ENCRYPTION_KEY="$(openssl rand -base64 32)" \\
  --from-literal=MARQUEE_ADMIN_PASSWORD='…' --from-literal=SMTP_URL='smtps://…'
kubectl create secret generic marquee-databases --from-literal=auth='postgres://…' \\
  --from-literal=platform-core='postgres://…' --from-literal=base='postgres://…' --from-literal=financial='postgres://…'
kubectl create secret generic marquee-redis --from-literal=url='rediss://…'
helm install marquee deploy/helm/marquee -f my-values.yaml
```

- `values.yaml` is a small production shape and needs Redis and an SMTP relay;
  `values-evaluation.yaml` runs one replica of each service with neither;
  `values-production.yaml` is an example of a real installation.
- `values.schema.json` is the contract: a value of the wrong type, outside its
  allowed set, or under an unknown key is refused before anything renders.
- The render fails, naming the values to change, on combinations that install
  but cannot work: more than one replica of a service (or an autoscaler that
  may add one) without `secrets.redisName`; auth and base with no SMTP relay
  writing mail into their pods unless `mail.allowPodDirectory` says so; a
  `terminationGracePeriodSeconds` not above `shutdown.preStopSleepSeconds +
  shutdown.drainSeconds + 10`; a PodDisruptionBudget that would block every
  drain; an nginx body limit below `services.base.media.maxBytes`.
- Every number reaches the services as a plain integer (`26214400`, never
  `2.62144e+07`).

This file is generated from the comments in `values.yaml` by
`scripts/chart-readme.py`; edit those and run it again.

## Values

| key | type | default | description |
|---|---|---|---|
"""

KEY = re.compile(r"^(\s*)([A-Za-z0-9_.\-]+):(?:\s+(.*))?$")


def schema_node(schema, path):
    node = schema
    for part in path:
        props = node.get("properties")
        if not props or part not in props:
            return None
        node = props[part]
    return node


def type_of(node, value):
    if node is None:
        return {dict: "object", list: "array", bool: "boolean", int: "integer", float: "number", str: "string"}.get(
            type(value), "null"
        )
    if "enum" in node:
        return " \\| ".join(f"`{e}`" for e in node["enum"])
    if "oneOf" in node:
        return " or ".join(dict.fromkeys(type_of(n, value) for n in node["oneOf"]))
    kind = node.get("type", "object")
    if isinstance(kind, list):
        return " or ".join(kind)
    return kind


def default_of(value):
    if isinstance(value, str):
        text = json.dumps(value)
    else:
        text = json.dumps(value, separators=(", ", ": "))
    return "`" + text.replace("|", "\\|") + "`"


def lookup(values, path):
    for part in path:
        values = values[part]
    return values


def rows(text, values, schema):
    stack = []  # (indent, key)
    comment = []
    skip_below = None  # indent under which keys belong to a leaf row already written
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            comment = []
            continue
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
            continue
        match = KEY.match(line)
        if not match:
            comment = []
            continue
        indent, key, rest = len(match.group(1)), match.group(2), (match.group(3) or "").split(" #")[0].strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if skip_below is not None and indent > skip_below:
            comment = []
            continue
        skip_below = None
        path = [k for _, k in stack] + [key]
        stack.append((indent, key))
        value = lookup(values, path)
        node = schema_node(schema, path)
        description = " ".join(comment).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        comment = []
        container = isinstance(value, dict) and not rest and node is not None and "properties" in node
        if container:
            if description:
                yield f"| `{'.'.join(path)}` | object | | {description} |"
            continue
        if isinstance(value, dict) and not rest:
            skip_below = indent
        yield f"| `{'.'.join(path)}` | {type_of(node, value)} | {default_of(value)} | {description} |"


def render():
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((CHART / "values.schema.json").read_text())
    return HEAD + "\n".join(rows(text, values, schema)) + "\n"


def main():
    readme = CHART / "README.md"
    fresh = render()
    if "--stdout" in sys.argv:
        sys.stdout.write(fresh)
    elif "--check" in sys.argv:
        if not readme.exists() or readme.read_text() != fresh:
            sys.exit("deploy/helm/marquee/README.md differs from values.yaml: run scripts/chart-readme.py")
    else:
        readme.write_text(fresh)
        print("deploy/helm/marquee/README.md written")


if __name__ == "__main__":
    main()
