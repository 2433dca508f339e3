import 'reflect-metadata';
import { loadConfig } from './src/config.js';
import { buildOrmOptions, databaseTarget } from './src/db/orm.js';
import { entities } from './src/entities.js';

// For the MikroORM CLI (`npx mikro-orm ...`): the same options the application uses, from the environment.
export default buildOrmOptions({ target: databaseTarget(loadConfig()), entities });
