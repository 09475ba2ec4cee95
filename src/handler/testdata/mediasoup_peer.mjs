// A real mediasoup server for `cargo test -p msc-handler -- --ignored mediasoup`.
// Line-delimited JSON on stdin/stdout:
//   -> {"transport": {iceParameters, iceCandidates, dtlsParameters}}
//   <- {"connect": dtlsParameters, "produce": {kind, rtpParameters}}
//   -> {"produced": id}  ... {"dtls": state} as it changes
//   <- {"stats": true}   -> {"stats": producer.getStats(), "transport": transport.getStats()}
//   <- {"close": true}   (or stdin closed): exit
// With TRANSPORTS=N (default 1) it makes N transports, sends {"transports": [...]} after the
// first one's message, and takes "index" (default 0) in connect and stats messages;
//   <- {"stats": "all"}  -> {"packets": [packetCount of each producer], "scores": [...]}
// Run with MEDIASOUP_DIR=<dir whose node_modules has mediasoup>.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const dir = process.env.MEDIASOUP_DIR ?? process.cwd();
const mediasoup = createRequire(path.join(dir, 'noop.js'))('mediasoup');
const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const worker = await mediasoup.createWorker({ logLevel: 'warn' });
worker.on('died', () => process.exit(1));
const router = await worker.createRouter({
	mediaCodecs: [
		{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
		{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
	],
});
const transports = [];
for (let i = 0; i < Number(process.env.TRANSPORTS || 1); i++) {
	transports.push(await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] }));
}
const transport = transports[0];
transport.on('dtlsstatechange', (state) => send({ dtls: state }));
const parameters = (t) => ({
	iceParameters: t.iceParameters,
	iceCandidates: t.iceCandidates,
	dtlsParameters: t.dtlsParameters,
});
send({ transport: parameters(transport) });
if (transports.length > 1) send({ transports: transports.map(parameters) });

const producers = [];
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
	try {
		const msg = JSON.parse(line);
		const index = msg.index ?? 0;
		if (msg.connect) {
			await transports[index].connect({ dtlsParameters: msg.connect });
			producers[index] = await transports[index].produce(msg.produce);
			send({ produced: producers[index].id, index });
		} else if (msg.stats === 'all') {
			const stats = await Promise.all(producers.map((p) => p.getStats()));
			send({ packets: stats.map((s) => s[0]?.packetCount ?? 0), scores: stats.map((s) => s[0]?.score ?? 0) });
		} else if (msg.stats) {
			send({ stats: await producers[index].getStats(), transport: await transports[index].getStats() });
		} else if (msg.close) {
			worker.close();
			process.exit(0);
		}
	} catch (error) {
		send({ error: String(error) });
	}
});
rl.on('close', () => {
	worker.close();
	process.exit(0);
});
