// The baseline for collector ingest: a bare node:http server that reads each request body to the end,
// discards it and answers what the collector answers on success. Whatever the collector does beyond this
// (decompress, parse, validate, decrypt, commit) is its own cost. Prints its URL on the first line.
import { createServer } from 'node:http';

const answer = Buffer.from('{"status":true}');
const server = createServer({ keepAliveTimeout: 5000 }, (request, response) => {
  request.on('data', () => {});
  request.on('end', () => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': answer.length });
    response.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`Bare server listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
