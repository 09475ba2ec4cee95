// A real mediasoup server with SCTP, for `cargo test -p msc-handler -- --ignored datachannel`.
// Line-delimited JSON on stdin/stdout (replies carry the request's key):
//   -> {"transport": {iceParameters, iceCandidates, dtlsParameters, sctpParameters}}
//   -> {"sctp": state} / {"dtls": state} as they change
//   <- {"connect": dtlsParameters}                          -> {"connected": true}
//   <- {"produceData": {sctpStreamParameters, label, protocol}}
//        a DataProducer on the WebRTC transport and a DataConsumer of it on a DirectTransport,
//        whose messages come back as
//   -> {"received": {streamId, ppid, size, hash, text?}}   (text when ppid is 51, up to 64 chars)
//   -> {"produceData": {id, streamId}}
//   <- {"directProduce": {label}}
//        a DataProducer on the DirectTransport and a DataConsumer of it on the WebRTC
//        transport                                          -> {"directProduce": {id, sctpStreamParameters}}
//   <- {"directSend": {index, text} | {index, size, seed}}  -> {"directSend": true}
//        (index: which direct producer, in creation order; binary payloads are pattern(size, seed))
//   -> {"sendBufferFull": consumerId}  (mediasoup dropped a message: its SCTP send buffer was full)
//   -> {"producerClosed": streamId}  (a DataProducer of `produceData` closed)
//   <- {"closeConsumer": index}  closes a DataConsumer (creation order)  -> {"closeConsumer": true}
//   <- {"producersClosed": true}  -> {"producersClosed": [closed of each produceData producer]}
//   <- {"stats": true}  -> {"stats": {consumers: [...getStats of each DataConsumer]}}
//   <- {"close": true}  (or stdin closed): exit
// Run with MEDIASOUP_DIR=<dir whose node_modules has mediasoup>.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const dir = process.env.MEDIASOUP_DIR ?? process.cwd();
const mediasoup = createRequire(path.join(dir, 'noop.js'))('mediasoup');
const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);

// FNV-1a, 32 bits: the test computes the same over what it sent.
const fnv1a = (buf) => {
	let h = 0x811c9dc5;
	for (const b of buf) h = Math.imul(h ^ b, 0x01000193) >>> 0;
	return h;
};
// The binary payload of `directSend`: byte i is (i * 7 + seed) & 0xff, as the test checks.
const pattern = (size, seed) => {
	const buf = Buffer.alloc(size);
	for (let i = 0; i < size; i++) buf[i] = (i * 7 + seed) & 0xff;
	return buf;
};

const worker = await mediasoup.createWorker({ logLevel: 'warn' });
worker.on('died', () => process.exit(1));
const router = await worker.createRouter({ mediaCodecs: [] });
const transport = await router.createWebRtcTransport({
	listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
	enableSctp: true,
	numSctpStreams: { OS: 1024, MIS: 1024 },
	maxSctpMessageSize: 262144,
});
const direct = await router.createDirectTransport({ maxMessageSize: 262144 });
transport.on('dtlsstatechange', (state) => send({ dtls: state }));
transport.on('sctpstatechange', (state) => send({ sctp: state }));
send({
	transport: {
		iceParameters: transport.iceParameters,
		iceCandidates: transport.iceCandidates,
		dtlsParameters: transport.dtlsParameters,
		sctpParameters: transport.sctpParameters,
	},
});

const consumers = [];
const webrtcProducers = [];
const directProducers = [];
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
	try {
		const msg = JSON.parse(line);
		if (msg.connect) {
			await transport.connect({ dtlsParameters: msg.connect });
			send({ connected: true });
		} else if (msg.produceData) {
			const producer = await transport.produceData(msg.produceData);
			const consumer = await direct.consumeData({ dataProducerId: producer.id });
			const streamId = msg.produceData.sctpStreamParameters.streamId;
			producer.observer.on('close', () => send({ producerClosed: streamId }));
			webrtcProducers.push(producer);
			consumer.on('message', (message, ppid) => {
				const received = { streamId, ppid, size: message.length, hash: fnv1a(message) };
				if (ppid === 51) received.text = message.toString('utf8').slice(0, 64);
				send({ received });
			});
			consumers.push(consumer);
			send({ produceData: { id: producer.id, streamId } });
		} else if (msg.directProduce) {
			const producer = await direct.produceData({ label: msg.directProduce.label });
			const consumer = await transport.consumeData({ dataProducerId: producer.id });
			// mediasoup drops a message that does not fit its SCTP send buffer (sctpSendBufferSize)
			consumer.on('sctpsendbufferfull', () => send({ sendBufferFull: consumer.id }));
			directProducers.push(producer);
			consumers.push(consumer);
			send({ directProduce: { id: consumer.id, sctpStreamParameters: consumer.sctpStreamParameters } });
		} else if (msg.directSend) {
			const { index = 0, text, size, seed = 0 } = msg.directSend;
			directProducers[index].send(text !== undefined ? text : pattern(size, seed));
			send({ directSend: true });
		} else if (msg.closeConsumer !== undefined) {
			consumers[msg.closeConsumer].close();
			send({ closeConsumer: true });
		} else if (msg.producersClosed) {
			send({ producersClosed: webrtcProducers.map((p) => p.closed) });
		} else if (msg.stats) {
			send({ stats: { consumers: await Promise.all(consumers.map((c) => c.getStats())) } });
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
