#!/bin/sh
# run_fuzz.sh [SECONDS]: builds tests/fuzz/fuzz_decoder_diff with clang-14
# (-fsanitize=fuzzer,address,undefined) into build/fuzz and runs it for SECONDS (default 180)
# on the available cores; prints libFuzzer's final statistics (executions). A disagreement
# between the two decoders, or a sanitizer report, aborts it and leaves a crash-* file in
# build/fuzz. The corpus it grows stays in build/fuzz/corpus.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-180}
out=build/fuzz
mkdir -p "$out/corpus"
cc=${CC_FUZZ:-clang-14}
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
# shellcheck disable=SC2046
$cc $flags -Icommon -Iproto -Itests/fuzz $(pkg-config --cflags msgpack-c 2>/dev/null || pkg-config --cflags msgpack) \
    tests/fuzz/fuzz_decoder_diff.c tests/fuzz/nw_ref_decode.c proto/nw_alert.c proto/nw_codec.c \
    proto/nw_decode.c proto/nw_msgpack_util.c proto/nw_topic.c proto/nw_wire_check.c \
    common/nw_error.c common/nw_utf8.c \
    $(pkg-config --libs msgpack-c 2>/dev/null || pkg-config --libs msgpack) -o "$out/fuzz_decoder_diff"
cd "$out"
./fuzz_decoder_diff -max_total_time="$secs" -max_len=4096 -print_final_stats=1 corpus 2>&1 |
    grep -E "^(stat::|Done|INFO: Seed|==|SUMMARY|fuzz_decoder_diff)" || true
ls crash-* 2>/dev/null && exit 1
exit 0
