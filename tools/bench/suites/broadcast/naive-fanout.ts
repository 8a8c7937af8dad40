// A reference for the bus benchmark: the naive relay, as the original bus does it: each frame parsed, then for every
// client stringified and sent again (ws frames it per socket). No auth, no bounds. Prints its port on stdout.
import { WebSocketServer, WebSocket } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('error', () => {});
  socket.on('message', (data: Buffer) => {
    const message: unknown = JSON.parse(data.toString('utf8'));
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(message));
  });
});
wss.on('listening', () => {
  const address = wss.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
