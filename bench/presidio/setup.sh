#!/usr/bin/env bash
# Creates the Python environment for the Presidio comparison under target/presidio-venv
# (idempotent: skips what is already installed). Everything comes from PyPI; Presidio runs
# regex-only with its no_op NLP engine, so no spaCy model is downloaded.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/presidio-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import presidio_analyzer, presidio_anonymizer, presidio_evaluator.data_generator, faker, pandas" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "presidio-analyzer>=2.2,<2.3"
    # presidio-evaluator pins heavy extras (spaCy models, flair); its sentence faker needs none.
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps presidio-evaluator
    "$venv/bin/pip" install --quiet --disable-pip-version-check "presidio-anonymizer>=2.2,<2.3" faker pandas tqdm python-dotenv
fi
echo "$venv/bin/python"
