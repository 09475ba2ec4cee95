'use strict';

// Reads `perf report --children --sort sym -g none` on stdin and prints the inclusive share of
// the client's CPU per part, by owner. A part is the largest inclusive share among the symbols
// that match it (inlined frames repeat a symbol under several names). Used by bench/profile.sh.

const parts = [
  ['ours', 'producer pump task (writes into the core, sends)', /msc_client::producer::pump::\{\{closure\}\}$/],
  ['ours', '  direct driver write: lock, core, sendmsg', /msc_handler::connection::direct::DirectConnection::write_rtp$/],
  ['webrtc-rs', '    rtc core: interceptors, SRTP, marshal', /RTCPeerConnection>::flush_writes$/],
  ['webrtc-rs', '      interceptor chain (its queues, around ours)', /^<rtc_interceptor::chain::Chain as .*>::handle_write$/],
  ['ours', '        our interceptor (NACK history, TWCC, SR)', /^<msc_handler::send::outbound::OutboundInterceptor as .*>::handle_write$/],
  ['webrtc-rs', '      SRTP encryption', /rtc_srtp::context::srtp::<impl rtc_srtp::context::Context>::encrypt_rtp$/],
  ['kernel', '    sendmsg (UDP send, loopback delivery)', /^(__libc_sendmsg|__libc_sendto|__send)$/],
  ['ours', 'direct driver reads (recv, SRTCP, interceptors)', /msc_handler::connection::direct::read_loop::\{\{closure\}\}$/],
  ['ours', '  receive rounds (the msc-recv thread: reads, SRTP, routes)', /^__rust_begin_short_backtrace<msc_handler::connection::rounds::/],
  ['ours', '    received packets to the tracks (routes, assembler)', /Routes as msc_handler::connection::inbound::Inbound>::deliver_rtp$/],
  ['ours', 'direct driver timers', /msc_handler::connection::direct::timer_loop::\{\{closure\}\}$/],
  ['webrtc-rs', 'async driver task (TURN transports only)', /PeerConnectionDriver<A>::event_loop::\{\{closure\}\}$/],
  ['ours', 'writeFrame from JS (napi, copy, packetize, queue)', /NativeTrack::write_frame$/],
  ['ours', '  packetizer', /msc_media::packetizer::Packetizer::packetize$/],
  ['webrtc-rs', '  rtc core reads: SRTP, interceptors, its queues', /RTCPeerConnection>::pump_reads$/],
  ['ours', '  received packets to the tracks (routes, assembler)', /msc_handler::recv::routes::Routes as msc_handler::connection::inbound::Inbound>::deliver$/],
  ['ours', 'frames to JS: drain', /NativeFrameDelivery(_\d+::drain_c_callback|::drain)$/],
  ['ours', 'frames to JS: readers wait again', /NativeFrameDelivery(_\d+::wait_c_callback|::wait)$/],
  ['v8', 'V8 platform threads (concurrent GC, compiler)', /node::\(anonymous namespace\)::PlatformWorkerThread$/],
  ['tokio', 'worker parking (idle, epoll, futex)', /tokio::runtime::scheduler::multi_thread::worker::Context::park_internal$/],
];

const input = require('node:fs').readFileSync(0, 'utf8');
const best = new Map();
let samples = null;
for (const line of input.split('\n')) {
  const s = line.match(/^# Samples: (\S+)/);
  if (s) samples = s[1];
  const m = line.match(/^\s+([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(.*?)\s*$/);
  if (!m) continue;
  const [, children, , symbol] = m;
  parts.forEach(([, , re], i) => {
    if (re.test(symbol)) best.set(i, Math.max(best.get(i) ?? 0, Number(children)));
  });
}
console.log(`share of the client process's CPU samples (${samples ?? '?'} samples), inclusive:`);
parts.forEach(([owner, name], i) => {
  const v = best.get(i);
  console.log(`${owner.padEnd(10)} ${name.padEnd(52)} ${v === undefined ? '     -' : `${v.toFixed(1).padStart(5)}%`}`);
});
