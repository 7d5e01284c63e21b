// Listens to a Darkroom server's live events with the socket.io client the web app uses.
// Usage: node socket-events.mjs <server url> <bearer token, "cookie:<cookies>", "headers:<json>" or "-"> <seconds> [stop-event]
// ("headers:" sends those headers, as a forward-auth proxy would; DARKROOM_LOCAL_ADDRESS picks
// the local address to connect from.)
// Prints "connected <server version json>" once greeted (in maintenance mode, which greets no
// one: "connected {}" once connected with cookies), then one JSON line per event; exits on the
// stop event, on a refusal ("refused <reason>") or after the given seconds.
import { io } from 'socket.io-client';

const [url, token, seconds, stopEvent] = process.argv.slice(2);
const socket = io(url, {
  path: '/api/socket.io',
  transports: ['websocket'],
  reconnection: false,
  localAddress: process.env.DARKROOM_LOCAL_ADDRESS || undefined,
  extraHeaders:
    token === '-'
      ? {}
      : token.startsWith('cookie:')
        ? { Cookie: token.slice('cookie:'.length) }
        : token.startsWith('headers:')
          ? JSON.parse(token.slice('headers:'.length))
          : { Authorization: `Bearer ${token}` },
});
const done = (code) => {
  socket.close();
  process.exit(code);
};
setTimeout(() => done(0), Number(seconds) * 1000);
if (token.startsWith('cookie:')) socket.on('connect', () => console.log('connected {}'));
socket.on('on_server_version', (version) => console.log(`connected ${JSON.stringify(version)}`));
socket.on('error', (reason) => {
  console.log(`refused ${reason}`);
  done(0);
});
socket.on('disconnect', (reason) => {
  console.log(`disconnected ${reason}`);
  done(0);
});
socket.on('connect_error', (error) => {
  console.log(`refused ${error.message}`);
  done(0);
});
socket.onAny((event, ...args) => {
  if (event === 'on_server_version' || event === 'error') return;
  console.log(JSON.stringify({ event, args }));
  if (event === stopEvent) done(0);
});
