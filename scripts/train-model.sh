#!/bin/sh
# Trains the built-in topic model (publisher/tag/model.txt) from the development corpus.
#   scripts/train-model.sh [CORPUS [OUTPUT]]
# CORPUS defaults to ../shared/corpus (beside the repository), OUTPUT to
# publisher/tag/model.txt. NW_TRAIN names the newswire-train binary (default
# build/release/publisher/newswire-train). The same corpus gives the same bytes:
# tests/test_model_retrain.sh checks the committed file against a fresh run. Per topic,
# cross-validation also tries idf-scaled training (--idf); topics are trained in parallel
# worker processes (one per processor), which changes nothing in the output.
#   reuters/train-labels.tsv    trade, energy, economy, markets
#   bbc/dev-labels.tsv          business, entertainment, politics, sport, technology (tech)
#   labels/mission-topics-dev.tsv  tariffs, defense, diplomacy; the other documents that the
#                               taxonomy scores under half a topic's threshold are negatives
set -eu
if [ $# -gt 2 ]; then
    echo "train-model.sh: too many arguments (usage: scripts/train-model.sh [CORPUS [OUTPUT]])" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-$root/../shared/corpus}
output=${2:-$root/publisher/tag/model.txt}
train=${NW_TRAIN:-$root/build/release/publisher/newswire-train}
if [ ! -d "$corpus/reuters/train" ] || [ ! -d "$corpus/bbc" ] || [ ! -d "$corpus/labels" ]; then
    echo "train-model.sh: no corpus at $corpus (reuters/train, bbc, labels)" >&2
    exit 2
fi
if [ ! -x "$train" ]; then
    echo "train-model.sh: $train not built (scripts/build.sh release, or set NW_TRAIN)" >&2
    exit 2
fi
exec "$train" --topics "$root/publisher/tag/topics.conf" \
    --set "$corpus/reuters/train-labels.tsv,$corpus/reuters/train" \
    --set "$corpus/bbc/dev-labels.tsv,$corpus/bbc" --map tech=technology \
    --set "$corpus/labels/mission-topics-dev.tsv,$corpus,extra-negatives" \
    --idf -o "$output"
