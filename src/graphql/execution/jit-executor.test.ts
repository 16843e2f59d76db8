import 'reflect-metadata';
import { GraphQLEnumType, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { CompiledOperations, enumsServeTheirNames } from './jit-executor';
import { buildGatewaySchema } from '../../schema';

/** A schema with one enum, whose internal values are the given ones, and a list of strings. */
function schemaWith(values: Record<string, { value: unknown }>, answer: unknown) {
  const Role = new GraphQLEnumType({ name: 'Role', values });
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        roles: { type: new GraphQLList(new GraphQLNonNull(Role)), resolve: () => answer },
        names: { type: new GraphQLList(GraphQLString), resolve: () => ['Karen', null] },
      },
    }),
  });
}

const run = (schema: GraphQLSchema, query: string) => new CompiledOperations(schema).get(parse(query), undefined).query(undefined, {}, {});

describe('compiled operations', () => {
  it('serve an enum whose internal values are not its names by its names, as graphql-js does', async () => {
    const schema = schemaWith({ LEAD: { value: 0 }, DEPUTY_LEAD: { value: 1 } }, [1, 0]);
    expect(enumsServeTheirNames(schema)).toBe(false);
    expect(await run(schema, '{ roles names }')).toEqual({ data: { roles: ['DEPUTY_LEAD', 'LEAD'], names: ['Karen', null] } });
  });

  it('serve enums and strings as given when the enums have their names as values, and still refuse a null where none may be', async () => {
    const schema = schemaWith({ LEAD: { value: 'LEAD' }, DEPUTY_LEAD: { value: 'DEPUTY_LEAD' } }, ['LEAD', null]);
    expect(enumsServeTheirNames(schema)).toBe(true);
    const answer = await run(schema, '{ roles names }');
    expect(answer.data).toEqual({ roles: null, names: ['Karen', null] });
    expect(answer.errors?.[0]?.path).toEqual(['roles', 1]);
  });

  it("serve the gateway's own enums without a serializer per value (all of them have their names as values)", async () => {
    expect(enumsServeTheirNames(await buildGatewaySchema())).toBe(true);
  });
});
