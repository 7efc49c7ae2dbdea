#!/bin/bash
# The UDP plugin end to end through the reference host: an echo server and
# echo-bench, two instances of the same plugin on loopback.
. "$(dirname "$0")/lib.sh"

start_echo -transport=udp -bind=127.0.0.1:0
ok $? "echo server starts and reports its address ($ECHO_ADDR)"

host echo-bench -transport=udp -peer="$ECHO_ADDR" -count=200 -size=1200 -window=1
check 0 '^RESULT frames=200 bytes=240000 seconds=[0-9.]+ fps=[0-9]+ mbps=[0-9.]+ rtt_p50_us=[0-9.]+ rtt_p99_us=[0-9.]+$'
ok $? "ping-pong: 200 frames of 1200 bytes come back intact"

host echo-bench -transport=udp -peer="$ECHO_ADDR" -count=500 -size=16 -window=8
check 0 '^RESULT frames=500 bytes=8000 '
ok $? "pipelined: 500 small frames, window 8"

host echo-bench -transport=udp -peer="$ECHO_ADDR" -count=20 -size=60000 -window=2
check 0 '^RESULT frames=20 bytes=1200000 '
ok $? "large frames: 20 of 60000 bytes"

stop_echo
[ "$ECHO_RC" -eq 0 ] && [ "$ECHO_DONE" = "DONE echoed=720" ]
ok $? "SIGTERM closes the echo server cleanly after echoing every frame ($ECHO_DONE)"

start_echo -transport=udp -bind=127.0.0.1:0 -count=3
host echo-bench -transport=udp -peer="$ECHO_ADDR" -count=3 -size=100; r1=$RC
read -r -t 30 line <&3; wait "$ECHO_PID"; r2=$?; exec 3<&-
[ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && [ "$line" = "DONE echoed=3" ]
ok $? "echo -count=N stops by itself after N datagrams"

# -rate paces the sends on an absolute schedule (frame i due at start +
# i/rate): N frames cannot come back sooner than (N-1)/rate s after the
# first left.  A lower bound only (a busy machine is slower), checked on the
# wall clock around the whole run and on the run's own seconds; the echo
# server saw every frame.
start_echo -transport=udp -bind=127.0.0.1:0
t0=$(date +%s%N)
host echo-bench -transport=udp -peer="$ECHO_ADDR" -count=21 -size=200 -window=4 -rate=100
t1=$(date +%s%N)
secs=$(sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' "$TMP/out")
check 0 '^RESULT frames=21 bytes=4200 seconds=[0-9.]+ fps=[0-9]+ mbps=[0-9.]+ rtt_p50_us=[0-9.]+ rtt_p99_us=[0-9.]+ rate=100$' &&
    [ $((t1 - t0)) -ge 200000000 ] && awk -v s="$secs" 'BEGIN { exit !(s >= 0.2) }'
ok $? "-rate=100: 21 frames take at least 0.2 s (wall $(((t1 - t0) / 1000000)) ms, run ${secs:-?} s) and the line says rate=100"
stop_echo
[ "$ECHO_DONE" = "DONE echoed=21" ]
ok $? "the paced run's frames all reached the echo server ($ECHO_DONE)"

host echo-bench -transport=udp -peer=127.0.0.1:9 -rate=fast
check 2 'invalid value "fast" for -rate: want a whole number from 0 to 10000000' err
ok $? "a -rate that is not a number is a usage error"

host echo-bench -transport=udp -peer=127.0.0.1:9 -rate=10000001
check 2 'invalid value "10000001" for -rate: want a whole number from 0 to 10000000' err
ok $? "a -rate over 10000000 frames/s is a usage error"

host echo-bench -h
check 0 '-rate N +pace: frame i is due at start \+ i/N seconds'
ok $? "echo-bench -h documents -rate"

# A port where nobody answers: a bounded wait and a clear failure.
start_echo -transport=udp -bind=127.0.0.1:0
silent=$ECHO_ADDR; stop_echo
host echo-bench -transport=udp -peer="$silent" -count=5 -timeout=200ms
check 1 'no echo for 200 ms: 0 of 5 frames came back' err
ok $? "no echo peer: echo-bench gives up after -timeout"

host echo-bench -transport=udp -peer="$silent" -count=5 -timeout=200ms -rate=1000
check 1 'no echo for 200 ms: 0 of 5 frames came back' err
ok $? "no echo peer, paced: echo-bench gives up after -timeout too"

host echo-bench -transport=udp -count=1
check 1 'no destination address' err
ok $? "udp without -peer fails with the plugin's reason"

host echo-bench -transport=udp -peer=127.0.0.1:9 -size=8
check 2 'need -count >= 1, -size >= 16' err
ok $? "frames too small to check are a usage error"

host echo-bench -transport=udp -peer=127.0.0.1:9 -size=65537
check 2 'from 0 to 65536' err
ok $? "frames over the ABI limit are a usage error"

host echo-bench -transport=udp -peer=nowhere -count=1
check 2 'invalid -peer' err
ok $? "a bad -peer is a usage error"

done_testing
