import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * graphql-codegen for a portal frontend: copy this file to the frontend's root and run
 * `npx graphql-codegen --config codegen.ts` (dev dependencies: @graphql-codegen/cli and
 * @graphql-codegen/client-preset). It reads the gateway's committed SDL (schema/schema.graphql of
 * this repository: the contract, also where introspection is off in production) and the
 * frontend's documents (`graphql(`…`)` calls, gql tags, or literals marked `/* GraphQL *\/`, as
 * examples/portal-web/app.js does), and writes typed documents to src/gql/.
 *
 * - Scalars: `DateTime` is an ISO 8601 string with offset and `Date` a `YYYY-MM-DD` string on
 *   the wire; they stay strings in the types (parse them where they are shown). `strictScalars`
 *   makes a scalar the gateway adds later fail the generation instead of becoming `any`.
 * - `persistedDocuments`: also writes persisted-documents.json (SHA-256 of each document → the
 *   document), the file the gateway's TRUSTED_DOCUMENTS takes as it is; the documents keep their
 *   text, so the same build works against a gateway without a safelist and with APQ.
 * - For Apollo Client's InMemoryCache, select `id` wherever a type has one: every object the
 *   portal shows has one, `Dashboard`, `Dossier` and `VideoCallStatus` included (the client's
 *   id), so no `typePolicies` key fields are needed (see the README, "For frontend developers").
 */
const config: CodegenConfig = {
  schema: process.env.PORTAL_SCHEMA ?? '../schema/schema.graphql',
  documents: process.env.PORTAL_DOCUMENTS ? process.env.PORTAL_DOCUMENTS.split(',') : ['src/**/*.{ts,tsx,js}', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    [process.env.PORTAL_CODEGEN_OUT ?? 'src/gql/']: {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
      },
      config: {
        scalars: { DateTime: 'string', Date: 'string' },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
