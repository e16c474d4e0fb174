/*
 * libFuzzer target for the frame parsers of bf_proto: any bytes in, no
 * crash, no sanitizer report; an accepted request header re-emits to the
 * same bytes. Built with clang when it is present (CMake target
 * fuzz_proto); the test suite runs it briefly, longer runs by hand:
 *   build/fuzz_proto -max_total_time=60
 */
#include "bf_err.h"
#include "bf_proto.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bf_proto_request req;
    struct bf_proto_reply rep;
    uint8_t again[BF_PROTO_HEADER_SIZE];
    size_t body = 0;

    if (bf_proto_request_parse(data, size, NULL, &req) == 0) {
        if (bf_proto_request_emit(&req, NULL, again) != 0 ||
            memcmp(again, data, BF_PROTO_HEADER_SIZE) != 0)
            abort();
    }
    if (bf_proto_reply_parse_header(data, size, &rep, &body) == 0 &&
        size - BF_PROTO_HEADER_SIZE >= body)
        bf_proto_reply_parse_body(data + BF_PROTO_HEADER_SIZE, body, &rep);
    return 0;
}
