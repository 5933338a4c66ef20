#!/usr/bin/env bash
# Regenerates vcdiff/testdata/golden: small deterministic source/target pairs
# and patches written by the installed stock xdelta3 (3.0.11) with each flag
# set the decoder must read. Run by `go test ./vcdiff -run TestGolden -update`.
#
# MANIFEST lines: <patch file> <pair> <with source: 1|0> <xdelta3 flags...>
set -euo pipefail
cd "$(dirname "$0")/../vcdiff/testdata/golden"
command -v xdelta3 >/dev/null || { echo "gen-golden: xdelta3 not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "gen-golden: python3 not found" >&2; exit 1; }
rm -f ./*.vcdiff ./*.src ./*.tgt MANIFEST

# Inputs: deterministic (fixed seeds), a few KB each.
python3 - <<'PY'
import random

def words(r, n):
    vocab = ["delta", "glider", "window", "source", "target", "copy", "add", "run",
             "xdelta3", "vcdiff", "segment", "checksum", "the", "a", "of", "and",
             "func", "return", "if", "err", "nil", "{", "}", "\n", "\t", "//"]
    return " ".join(r.choice(vocab) for _ in range(n)).encode()

def edit(r, b, nedits):
    b = bytearray(b)
    for _ in range(nedits):
        pos = r.randrange(len(b))
        k = r.randrange(3)
        if k == 0:
            b[pos:pos] = bytes(r.getrandbits(8) for _ in range(r.randrange(1, 40)))
        elif k == 1:
            del b[pos:pos + r.randrange(1, 60)]
        else:
            n = r.randrange(1, 30)
            b[pos:pos + n] = bytes(r.getrandbits(8) for _ in range(n))
    return bytes(b)

def put(name, data):
    with open(name, "wb") as f:
        f.write(data)

r = random.Random(20261122)
# text: ~60 KB of source-like text and an edited copy (multi-window at -W 16384).
src = words(r, 10000)
put("text.src", src)
put("text.tgt", edit(r, src, 60))
# binary: random bytes; target moves blocks around and adds new bytes.
src = bytes(r.getrandbits(8) for _ in range(24000))
blocks = [src[i:i + 3000] for i in range(0, len(src), 3000)]
r.shuffle(blocks)
blocks.insert(3, bytes(r.getrandbits(8) for _ in range(2000)))
put("binary.src", src)
put("binary.tgt", b"".join(blocks))
# runs: long runs and short periods (RUN and overlapping target COPY).
put("runs.src", b"header" + bytes(range(256)))
put("runs.tgt", b"xyz" + b"A" * 5000 + b"abc" * 700 + bytes(range(256)) + b"\0" * 3000 + b"0123456789" * 300)
# tiny: the 37/39-byte pair of the format notes.
put("tiny.src", b"hello world, this is the source file\n")
put("tiny.tgt", b"hello WORLD, this is the source file!!\n")
# empty target, identical files.
put("empty.src", b"some source bytes\n" * 10)
put("empty.tgt", b"")
src = words(r, 3000)
put("same.src", src)
put("same.tgt", src)
PY

n=0
gen() { # gen <name> <pair> <with-source> flags...
  local name=$1 pair=$2 withsrc=$3; shift 3
  if [ "$withsrc" = 1 ]; then
    xdelta3 -e -f "$@" -s "$pair.src" "$pair.tgt" "$name.vcdiff"
  else
    xdelta3 -e -f "$@" "$pair.tgt" "$name.vcdiff"
  fi
  echo "$name.vcdiff $pair $withsrc $*" >> MANIFEST
  n=$((n+1))
}

for pair in text binary runs tiny empty same; do
  gen "$pair.default" "$pair" 1
  gen "$pair.none" "$pair" 1 -S none
  gen "$pair.djw" "$pair" 1 -S djw
  gen "$pair.nosrc" "$pair" 0
done
for l in 0 1 2 3 4 5 6 7 8 9; do
  gen "text.l$l" text 1 -$l
done
gen text.l0-none text 1 -0 -S none
gen text.l9-djw9 text 1 -9 -S djw9
gen text.nochecksum text 1 -n
gen text.noapp text 1 -A= -S lzma
gen text.noapp-bare text 1 -A -n
gen text.app-custom text 1 -A=custom/app/header
gen text.w16k text 1 -W 16384
gen text.w16k-none text 1 -W 16384 -S none
gen text.w16k-djw text 1 -W 16384 -S djw
gen text.w16k-l9 text 1 -W 16384 -9
gen text.w16k-nosrc text 0 -W 16384
gen text.bsmall text 1 -B 524288
gen text.blarge text 1 -1 -B 134217728
gen binary.w16k binary 1 -W 16384
gen binary.w16k-djw binary 1 -W 16384 -S djw
gen binary.l9 binary 1 -9
gen runs.w16k runs 1 -W 16384
gen runs.w16k-nosrc-none runs 0 -W 16384 -S none
gen tiny.l1 tiny 1 -1
gen tiny.rfc tiny 1 -S none -A= -n
echo "gen-golden: wrote $n patches" >&2
