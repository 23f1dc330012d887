import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed documents from the committed schema.graphql: `npm run codegen` after editing a query.
// documentMode "string": documents stay plain strings, so no GraphQL library ships to the browser.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/api/operations.graphql"],
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        documentMode: "string",
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", Decimal: "string", JSON: "unknown" },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};
export default config;
