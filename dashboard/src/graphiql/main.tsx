import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { authorizationOf, graphqlWebSocketUrl, storedApiKey } from '../api/session';

/**
 * GraphiQL from our own bundle (no CDN), at GET /graphql in a browser. Queries and mutations go over HTTP,
 * subscriptions over graphql-ws; the headers editor's values are sent with both (graphql-ws as
 * connectionParams, where the API reads `authorization`). A key signed in to the dashboard fills it.
 */
const apiKey = storedApiKey();
// Sent with every request, the schema's introspection included, until the headers editor says otherwise.
const signedIn: Record<string, string> = apiKey === null ? {} : { authorization: authorizationOf(apiKey) };
const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  headers: signedIn,
  subscriptionUrl: graphqlWebSocketUrl(),
  wsConnectionParams: signedIn,
});
const headers = JSON.stringify({ authorization: signedIn.authorization ?? 'Bearer <your API key>' }, null, 2);

const DEFAULT_QUERY = `# Servers of your tenant, with their health. Subscriptions work here too:
# subscription { serverHealthChanged { serverId status checkedAt } }
query Servers {
  servers(first: 10) {
    totalCount
    edges { node { id name healthStatus avgResponseTime tools { name } } }
  }
}
`;

// A link can carry the operation to open with, as GraphiQL links do: /graphql?query=…
const linkedQuery = new URLSearchParams(window.location.search).get('query');

const root = document.getElementById('graphiql');
if (root === null) throw new Error('graphiql.html has no #graphiql element');
// The API says whether it answers introspection (production does not by default, GRAPHQL_INTROSPECTION=true
// turns it on); without it the schema explorer stays empty and queries still run.
const introspection = root.dataset.introspection !== 'off';
createRoot(root).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      {...(introspection ? {} : { schema: null })}
      initialHeaders={headers}
      defaultQuery={DEFAULT_QUERY}
      {...(linkedQuery === null ? {} : { initialQuery: linkedQuery })}
      defaultEditorToolsVisibility="headers"
      isHeadersEditorEnabled
      shouldPersistHeaders={false}
    />
  </StrictMode>,
);
