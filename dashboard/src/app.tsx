import { Link, Redirect, Route, Router, Switch } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import type { SignInSettings } from './api/sign-in-settings';
import { LiveIndicator } from './components/live-indicator';
import { SignedInAs } from './components/signed-in-as';
import { OverviewPage } from './pages/overview';
import { ServerDetailPage } from './pages/server-detail';
import { ServersPage } from './pages/servers';
import { SignInPage } from './pages/sign-in';
import { VirtualServersPage } from './pages/virtual-servers';
import { SessionProvider, useSession } from './session';

export function App({ signInSettings }: { readonly signInSettings: SignInSettings | null }) {
  return (
    <SessionProvider signInSettings={signInSettings}>
      {/* Hash routes: the API serves one page at `/`, and no path of ours can shadow an API path. */}
      <Router hook={useHashLocation}>
        <Shell />
      </Router>
    </SessionProvider>
  );
}

function Shell() {
  const { client, signOut } = useSession();
  if (client === null) return <SignInPage />;
  return (
    <div className="shell">
      <header className="top-bar">
        <span className="brand">MCP Registry Gateway</span>
        <nav>
          <Link href="/">Overview</Link>
          <Link href="/servers">Servers</Link>
          <Link href="/virtual-servers">Virtual servers</Link>
          {/* GraphiQL is its own page (not a hash route), served by the API at GET /graphql. */}
          <a href="/graphql">GraphiQL</a>
        </nav>
        <SignedInAs />
        <LiveIndicator client={client} />
        <button type="button" className="link-button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Switch>
          <Route path="/" component={OverviewPage} />
          <Route path="/servers" component={ServersPage} />
          <Route path="/servers/:id">{(params) => <ServerDetailPage id={params.id} />}</Route>
          <Route path="/virtual-servers" component={VirtualServersPage} />
          <Route>
            <Redirect to="/" />
          </Route>
        </Switch>
      </main>
    </div>
  );
}
