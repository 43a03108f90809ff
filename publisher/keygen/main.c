/*
 * newswire-keygen: makes a CURVE key pair as two ZPL certificate files,
 * NAME.key (public) and NAME.key_secret (secret, mode 0600), in the format
 * CZMQ's zcert and pyzmq's zmq.auth read.
 */
#include "nw_cert.h"
#include "nw_error.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define S_PROGRAM "newswire-keygen"

static void s_help(FILE *out)
{
    fputs("NAME\n"
          "    newswire-keygen - make a CURVE key pair for newswire\n"
          "\n"
          "SYNOPSIS\n"
          "    newswire-keygen NAME\n"
          "\n"
          "DESCRIPTION\n"
          "    Writes NAME.key, the public certificate to hand to the other side, and\n"
          "    NAME.key_secret, the secret certificate (mode 0600) to keep. NAME may hold a\n"
          "    folder (keys/pub). Existing files are never replaced. The files are ZPL\n"
          "    certificates as CZMQ's zcert and pyzmq's zmq.auth.load_certificate read.\n"
          "\n"
          "    Publisher:  newswire-pub --curve-secret pub.key_secret --curve-allow clients/\n"
          "    Subscriber: newswire-sub --curve-server-key pub.key --curve-secret me.key_secret\n"
          "                (and copy me.key into the publisher's clients/ folder)\n"
          "\n"
          "OPTIONS\n"
          "    -h, --help      print this help and exit\n"
          "    -V, --version   print the version and exit\n"
          "\n"
          "EXIT STATUS\n"
          "    0 written, 1 cannot write (named on stderr), 2 usage\n",
          out);
}

int main(int argc, char *argv[])
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        s_help(stdout);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("%s %s\n", S_PROGRAM, NW_VERSION);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-') {
        fprintf(stderr, "%s: expected one NAME (see --help)\n", S_PROGRAM);
        return 2;
    }
    nw_cert_t cert;
    char err[4200];
    if (nw_cert_generate(&cert) != NW_OK) {
        fprintf(stderr, "%s: cannot make a key pair: %s (libzmq without CURVE?)\n", S_PROGRAM,
                zmq_strerror(zmq_errno()));
        return 1;
    }
    int rc = nw_cert_save(argv[1], &cert, err, sizeof err);
    memset(&cert, 0, sizeof cert);
    if (rc != NW_OK) {
        fprintf(stderr, "%s: %s\n", S_PROGRAM, err);
        return 1;
    }
    printf("%s.key\n%s.key_secret\n", argv[1], argv[1]);
    return 0;
}
