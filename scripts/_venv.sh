# Sourced by scripts/test and scripts/demo: make .venv with the project installed, once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # The distribution was called "odm" before it became "odm-elasticsearch": drop the old one,
  # or pytest would load the plugin twice.
  .venv/bin/python -m pip uninstall -q -y odm 2>/dev/null || true
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
