// A real mediasoup server for `cargo test -p msc-handler -- --ignored mediasoup`.
// Line-delimited JSON on stdin/stdout:
//   -> {"transport": {iceParameters, iceCandidates, dtlsParameters}}
//   <- {"connect": dtlsParameters, "produce": {kind, rtpParameters}}
//   -> {"produced": id}  ... {"dtls": state} as it changes
//   <- {"stats": true}   -> {"stats": producer.getStats(), "transport": transport.getStats()}
//   <- {"close": true}   (or stdin closed): exit
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
const transport = await router.createWebRtcTransport({
	listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
});
transport.on('dtlsstatechange', (state) => send({ dtls: state }));
send({
	transport: {
		iceParameters: transport.iceParameters,
		iceCandidates: transport.iceCandidates,
		dtlsParameters: transport.dtlsParameters,
	},
});

let producer;
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
	try {
		const msg = JSON.parse(line);
		if (msg.connect) {
			await transport.connect({ dtlsParameters: msg.connect });
			producer = await transport.produce(msg.produce);
			send({ produced: producer.id });
		} else if (msg.stats) {
			send({ stats: await producer.getStats(), transport: await transport.getStats() });
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
