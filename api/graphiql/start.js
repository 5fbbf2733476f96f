// Starts GraphiQL against this server's /graphql. `?query=` and `?headers=` in the page's URL open it with
// that query and those request headers (JSON).
// Tokens go in the Headers tab: {"Authorization": "Bearer <token from `twofold token`>"}.
(function () {
  var params = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", window.location.href).toString() });
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
