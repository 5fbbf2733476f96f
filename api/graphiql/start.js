// Starts GraphiQL against this server's /graphql. `?query=` and `?headers=` in the page's URL open it with
// that query and those request headers (JSON).
// Tokens go in the Headers tab: {"Authorization": "Bearer <token from `twofold token`>"}.
// Queries and mutations go over HTTP; subscriptions over a WebSocket to the same /graphql
// (graphql-transport-ws), whose connection_init carries the Headers tab's Authorization.
(function () {
  var params = new URLSearchParams(window.location.search);
  var url = new URL("/graphql", window.location.href).toString();
  var fetchers = {};
  function fetcherFor(headers) {
    var authorization = (headers && (headers.Authorization || headers.authorization)) || "";
    if (!fetchers[authorization]) {
      fetchers[authorization] = GraphiQL.createFetcher({
        url: url,
        subscriptionUrl: url.replace(/^http/, "ws"),
        wsConnectionParams: authorization ? { Authorization: authorization } : {},
      });
    }
    return fetchers[authorization];
  }
  var fetcher = function (graphQLParams, options) {
    return fetcherFor(options && options.headers)(graphQLParams, options);
  };
  var welcome = [
    "# Twofold: search the catalog. Catalog reads need no token; orders and customers do:",
    "# run `twofold token --role admin` and put {\"Authorization\": \"Bearer <token>\"} in Headers.",
    "query Catalog {",
    "  products(query: \"wool\", first: 5) {",
    "    totalCount",
    "    edges { node { name brand price stock } }",
    "  }",
    "}",
    "",
  ].join("\n");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: welcome,
      query: params.get("query") || undefined,
      headers: params.get("headers") || undefined,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
