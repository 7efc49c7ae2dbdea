/*
 * faultproxy.h -- a loopback TCP proxy that injects network faults, for
 * the WSS plugin's tests.  Prefix fp_.
 *
 * fp_start() listens on 127.0.0.1:0 and forwards every accepted connection
 * to 127.0.0.1:target_port, from one thread of the calling process.  Each
 * connection has two directions, FP_UP (client -> target) and FP_DOWN
 * (target -> client), and each direction one fault:
 *
 *   FP_PASS     forward as it comes
 *   FP_TRICKLE  one byte per write, `ms` between writes (0: back to back),
 *               TCP_NODELAY: TLS records and WebSocket headers arrive in
 *               pieces
 *   FP_DELAY    hold every chunk read `ms` before forwarding it
 *   FP_STALL    forward `at` bytes, then read no more: the sockets stay
 *               open and the sender's data backs up in the kernel
 *   FP_CUT      forward `at` bytes, then close both sides (FIN)
 *   FP_RESET    forward `at` bytes, then reset both sides (SO_LINGER 0: RST)
 *
 * Byte offsets count from the start of the connection in that direction
 * (fp_set) or from the bytes already taken when the fault is armed
 * (fp_arm).  Connections are numbered from 0 in accept order; fp_set
 * applies to the first n_faulty of them (-1: all), so a redial after the
 * fault goes through clean.
 *
 * The proxy also logs the TLS record headers it sees (fp_records), so a
 * test can place a fault inside a given record: the plaintext record
 * layer shows where the handshake, the HTTP 101 and the auth messages are.
 *
 * Waiting: fp_wait_accepted / fp_wait_fired / fp_wait_closed block on a
 * condition variable until the proxy reports the event or the timeout
 * (milliseconds, not scaled here) passes.  All functions are thread-safe.
 */
#ifndef PT_TEST_FAULTPROXY_H
#define PT_TEST_FAULTPROXY_H

#include <stddef.h>
#include <stdint.h>

typedef struct fp_proxy fp_proxy;

enum fp_dir { FP_UP = 0, FP_DOWN = 1 };

enum fp_kind { FP_PASS = 0, FP_TRICKLE, FP_DELAY, FP_STALL, FP_CUT, FP_RESET };

typedef struct fp_fault {
    int kind;    /* enum fp_kind */
    uint64_t at; /* FP_STALL, FP_CUT, FP_RESET: bytes forwarded first */
    int ms;      /* FP_TRICKLE: gap between bytes; FP_DELAY: hold time */
} fp_fault;

/* One TLS record header seen in a direction: where it starts in that
 * direction's byte stream, its content type and length (without the
 * 5-byte header), and how many bytes the proxy had forwarded in the other
 * direction when the record's first byte arrived. */
typedef struct fp_record {
    uint64_t off;
    uint8_t type;
    uint16_t len;
    uint64_t other;
} fp_record;

#define FP_MAX_CONNS 16
#define FP_MAX_RECORDS 64

/* Start a proxy to 127.0.0.1:target_port; NULL (with a '#' diagnostic)
 * on failure.  fp_stop closes every connection and frees it. */
fp_proxy *fp_start(int target_port);
void fp_stop(fp_proxy *p);
int fp_port(const fp_proxy *p);

/* The fault in direction dir for connections accepted from now on whose
 * number is below n_faulty (-1: every one); the others pass. */
void fp_set(fp_proxy *p, int dir, fp_fault f, int n_faulty);
/* Put fault f on live connection conn; `at` counts from the bytes taken
 * so far in that direction.  0, or -1 if conn is not open. */
int fp_arm(fp_proxy *p, int conn, int dir, fp_fault f);

/* 1 once at least n connections were accepted, 0 on timeout. */
int fp_wait_accepted(fp_proxy *p, int n, int timeout_ms);
/* 1 once the stall/cut/reset on conn fired, 0 on timeout. */
int fp_wait_fired(fp_proxy *p, int conn, int timeout_ms);
/* 1 once the proxy closed conn (either side gone, or a cut), 0 on timeout. */
int fp_wait_closed(fp_proxy *p, int conn, int timeout_ms);

int fp_accepted(fp_proxy *p);
/* Monotonic ms when the fault on conn fired, 0 if it has not. */
int64_t fp_fired_at(fp_proxy *p, int conn);
/* Bytes forwarded (written to the other side) on conn in dir. */
uint64_t fp_bytes(fp_proxy *p, int conn, int dir);
/* Copy up to max records seen on conn in dir; returns how many. */
size_t fp_records(fp_proxy *p, int conn, int dir, fp_record *out, size_t max);

#endif
