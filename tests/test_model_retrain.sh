#!/bin/sh
# test_model_retrain: the committed built-in model is what scripts/train-model.sh makes from
# the development corpus, byte for byte.
#   test_model_retrain.sh SOURCE_DIR NEWSWIRE_TRAIN
set -eu
src=$1
# An argument the script does not take is refused, not silently dropped.
if msg=$(NW_TRAIN=$2 sh "$src/scripts/train-model.sh" a b --jobs 2>&1); then
    echo "FAIL: train-model.sh accepted a third argument" >&2
    exit 1
fi
case $msg in
*"too many arguments"*) ;;
*) echo "FAIL: train-model.sh said '$msg' for a third argument" >&2; exit 1 ;;
esac
corpus=$src/../shared/corpus
if [ ! -d "$corpus/reuters/train" ]; then
    echo "SKIPPED: no development corpus at $corpus (../shared is absent)"
    exit 77
fi
out=$(mktemp "${TMPDIR:-/tmp}/nw-model.XXXXXX")
trap 'rm -f "$out"' EXIT
NW_TRAIN=$2 sh "$src/scripts/train-model.sh" "$corpus" "$out"
if ! cmp "$out" "$src/publisher/tag/model.txt"; then
    echo "FAIL: publisher/tag/model.txt differs from a fresh scripts/train-model.sh run" >&2
    diff "$src/publisher/tag/model.txt" "$out" | head -20 >&2
    exit 1
fi
echo "OK: publisher/tag/model.txt is reproduced byte for byte"
