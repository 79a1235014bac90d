#!/usr/bin/env bash
# install-torch.sh - install Debian's PyTorch (python3-torch, CPU) for the torch-ddp
# example and its tests, and patch its torchrun for Python 3.11. Idempotent: installs
# only when missing, patches only when unpatched. Run as root on Debian 12.
#
# The patch: torch 1.13 + Python 3.11 - Std.from_str() iterates an IntFlag, which no
# longer yields the 0 member, so torchrun dies at start with
# "AttributeError: 'NoneType' object has no attribute 'get'". Reinstalling the package
# undoes the patch; running this script again re-applies it.
#
# Always run torch with /usr/bin/python3: `python3` on PATH may be a pyenv/venv
# interpreter without torch.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "install-torch.sh: must run as root" >&2; exit 1; }
PY=/usr/bin/python3
API=/usr/lib/python3/dist-packages/torch/distributed/elastic/multiprocessing/api.py

if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q 'install ok installed'; then
  echo "install-torch.sh: installing python3-torch (about 150 MB download)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends python3-torch >/dev/null
fi

[ -f "$API" ] || { echo "install-torch.sh: $API not found; is python3-torch installed?" >&2; exit 1; }
if grep -q 'for s in Std:' "$API"; then
  sed -i 's/for s in Std:/for s in Std.__members__.values():/' "$API"
  echo "install-torch.sh: patched torchrun's Python 3.11 IntFlag bug in $API"
fi

"$PY" -c 'import torch, torch.distributed as d; assert d.is_available() and d.is_gloo_available(); print("install-torch.sh: torch", torch.__version__, "with gloo ready")'
