import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config';
import { dataSourceOptions } from './src/db/data-source';

/** For the typeorm CLI (e.g. `npx typeorm -d dist/ormconfig.js migration:show`): DATABASE_URL decides. */
export default new DataSource(dataSourceOptions(loadConfig().database));
