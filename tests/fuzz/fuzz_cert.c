/* libFuzzer harness: a CURVE certificate file (ZPL), as --curve-secret, --curve-server-key
 * and the --curve-allow folder read it. */
#include "nw_cert.h"
#include "nw_error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_cert_t cert;
    char err[256];
    if (nw_cert_parse((const char *)data, size, "fuzz.key", &cert, err, sizeof err) == NW_OK) {
        unsigned char key[32];
        if (!nw_cert_key_valid(cert.public_key) ||
            nw_cert_key_decode(cert.public_key, key) != NW_OK)
            abort(); /* accepted keys are always usable */
    }
    return 0;
}
