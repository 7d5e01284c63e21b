// Listens to a Darkroom server's live events with the socket.io client the web app uses.
// Usage: node socket-events.mjs <server url> <bearer token or "-"> <seconds> [stop-event]
// Prints "connected <server version json>" once greeted, then one JSON line per event; exits on
// the stop event, on a refusal ("refused <reason>") or after the given seconds.
import { io } from 'socket.io-client';

const [url, token, seconds, stopEvent] = process.argv.slice(2);
const socket = io(url, {
  path: '/api/socket.io',
  transports: ['websocket'],
  reconnection: false,
  extraHeaders: token === '-' ? {} : { Authorization: `Bearer ${token}` },
});
const done = (code) => {
  socket.close();
  process.exit(code);
};
setTimeout(() => done(0), Number(seconds) * 1000);
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
