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

# A port where nobody answers: a bounded wait and a clear failure.
start_echo -transport=udp -bind=127.0.0.1:0
silent=$ECHO_ADDR; stop_echo
host echo-bench -transport=udp -peer="$silent" -count=5 -timeout=200ms
check 1 'no echo for 200 ms: 0 of 5 frames came back' err
ok $? "no echo peer: echo-bench gives up after -timeout"

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
