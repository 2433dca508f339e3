import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, fromJsonSchema, McpServer } from '@modelcontextprotocol/server';

/**
 * A small MCP server to try the gateway with (`npm run example-server -- --port 4100`): weather tools, a
 * resource and a prompt over Streamable HTTP at /mcp, answering clients of both protocol eras. Its answers are
 * made up from the city's name, the same every time, so it needs no network.
 */

const CONDITIONS = ['sunny', 'partly cloudy', 'cloudy', 'light rain', 'windy', 'snow showers'] as const;

/** A stable pseudo-random number from a text: the same city always gets the same weather. */
function seedOf(text: string): number {
  let hash = 2166136261;
  for (const char of text.toLowerCase()) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return hash;
}

function forecastFor(city: string, days: number) {
  const seed = seedOf(city);
  return Array.from({ length: days }, (_, day) => ({
    day: day + 1,
    condition: CONDITIONS[(seed >> day) % CONDITIONS.length] ?? 'sunny',
    highC: 8 + ((seed >> (day + 3)) % 18),
    lowC: ((seed >> (day + 5)) % 8) - 2,
  }));
}

function exampleServer(): McpServer {
  const server = new McpServer({ name: 'example-weather', version: '1.0.0' });
  server.registerTool(
    'get_forecast',
    {
      title: 'Weather forecast',
      description: 'Daily weather forecast for a city: condition, high and low temperature.',
      inputSchema: fromJsonSchema<{ city: string; days?: number }>({
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name, e.g. Oslo' },
          days: { type: 'integer', minimum: 1, maximum: 7, description: 'How many days (default 3)' },
        },
        required: ['city'],
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ city, days }) => {
      const forecast = { city, days: forecastFor(city, days ?? 3) };
      return { content: [{ type: 'text', text: JSON.stringify(forecast) }], structuredContent: forecast };
    },
  );
  server.registerTool(
    'get_alerts',
    {
      title: 'Weather alerts',
      description: 'Active severe weather alerts for a city (storms, floods, heat).',
      inputSchema: fromJsonSchema<{ city: string }>({
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
      }),
      annotations: { readOnlyHint: true },
    },
    async ({ city }) => {
      const alerts = seedOf(city) % 3 === 0 ? [{ kind: 'wind', severity: 'moderate' }] : [];
      return { content: [{ type: 'text', text: JSON.stringify({ city, alerts }) }] };
    },
  );
  server.registerResource(
    'cities',
    'weather://cities',
    { title: 'Known cities', description: 'Cities with good coverage', mimeType: 'application/json' },
    async (uri) => ({
      contents: [
        { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(['Oslo', 'Lisbon', 'Osaka']) },
      ],
    }),
  );
  server.registerPrompt(
    'weather_briefing',
    {
      title: 'Weather briefing',
      description: 'Ask for a short briefing on the weather in a city',
      argsSchema: fromJsonSchema<{ city: string }>({
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
      }),
    },
    ({ city }) => ({
      messages: [
        {
          role: 'user' as const,
          content: { type: 'text' as const, text: `Give a two-line weather briefing for ${city}.` },
        },
      ],
    }),
  );
  return server;
}

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
const port = Number(values.port ?? process.env.EXAMPLE_PORT ?? 4100);
const host = values.host ?? '127.0.0.1';
const serve = toNodeHandler(createMcpHandler(exampleServer, { legacy: 'stateless' }));
const http = createServer((req, res) => {
  if (new URL(req.url ?? '/', 'http://localhost').pathname === '/mcp') void serve(req, res);
  else res.writeHead(404, { 'content-type': 'text/plain' }).end('The MCP endpoint is /mcp\n');
});
http.listen(port, host, () => {
  const { port: bound } = http.address() as AddressInfo;
  console.log(`example MCP server listening on http://${host}:${bound}/mcp`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => http.close(() => process.exit(0)));
