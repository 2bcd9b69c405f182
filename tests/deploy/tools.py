"""What the deployment scripts share: where the chart is, and running helm
and kubectl (installed under .tools/ by scripts/deploy-tools.sh)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "marquee"
KUBE_VERSION = "1.31.0"


def tool(env, default):
    path = os.environ.get(env) or str(ROOT / ".tools" / default)
    if not Path(path).exists():
        sys.exit(f"{env}: {path} not found (run scripts/deploy-tools.sh)")
    return path


def run(*cmd):
    """The command's output; exits naming the command when it fails."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout
