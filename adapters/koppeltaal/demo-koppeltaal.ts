import type { ChangedTasks, KoppeltaalClientRef, KoppeltaalPort, KoppeltaalTask } from '../ports';

/** The demo account of the parent of the demo children (src/modules/portal/demo-seed.ts): their RelatedPerson's e-mail. */
const DEMO_PARENT_EMAIL = 'parent@demo.test';
const DEMO_SOURCE = 'demo';
const CHILDREN = new Set(['cl-sanne', 'cl-daan']);

interface DemoModule {
  key: string;
  title: string;
  description: string;
  status: string;
  progress: number | null;
  /** Carried out by the parent (a RelatedPerson), not the child. */
  forParent?: boolean;
}

const MODULES: readonly DemoModule[] = [
  {
    key: 'psycho',
    title: 'Omgaan met angst en paniek',
    description: 'Psycho-educatie in zes korte lessen: wat angst is, wat er in je lichaam gebeurt en hoe je de cirkel doorbreekt.',
    status: 'in-progress',
    progress: 40,
  },
  {
    key: 'ontspanning',
    title: 'Ontspanningsoefeningen',
    description: 'Ademhalings- en spierontspanningsoefeningen om dagelijks te doen, met audio.',
    status: 'ready',
    progress: null,
  },
  {
    key: 'slaap',
    title: 'Beter slapen',
    description: 'Slaapdagboek en tips voor een vast slaapritme.',
    status: 'completed',
    progress: 100,
  },
  {
    key: 'ouders',
    title: 'Ouders: je kind steunen bij angst',
    description: 'Voor ouders: hoe je je kind helpt zonder de angst te versterken.',
    status: 'ready',
    progress: null,
    forParent: true,
  },
];

/**
 * The embedded Koppeltaal domain when KOPPELTAAL_FHIR_URL is not set (development, `npm start`):
 * every demo client has the same three modules, a demo child also one for the parent. Its launch
 * URLs point at a module provider that does not exist; the form and token are real.
 */
export class DemoKoppeltaal implements KoppeltaalPort {
  readonly name = 'koppeltaal-demo';

  async findPatient(refs: readonly KoppeltaalClientRef[]): Promise<string | null> {
    return refs.find((r) => r.source === DEMO_SOURCE)?.externalId ?? null;
  }

  async clientRefOf(patientId: string): Promise<KoppeltaalClientRef | null> {
    return { source: DEMO_SOURCE, externalId: patientId };
  }

  async findRelatedPerson(patientId: string, email: string): Promise<string | null> {
    return CHILDREN.has(patientId) && email.trim().toLowerCase() === DEMO_PARENT_EMAIL ? `rp-${patientId}` : null;
  }

  async listTasks(patientId: string): Promise<KoppeltaalTask[]> {
    return MODULES.filter((m) => !m.forParent || CHILDREN.has(patientId)).map((m) => task(patientId, m));
  }

  async getTask(taskId: string): Promise<KoppeltaalTask | null> {
    const at = taskId.lastIndexOf('.');
    const module = MODULES.find((m) => m.key === taskId.slice(at + 1));
    const patientId = taskId.slice(0, at);
    if (at <= 0 || !module || (module.forParent && !CHILDREN.has(patientId))) return null;
    return task(patientId, module);
  }

  async changedTasks(): Promise<ChangedTasks> {
    return { tasks: [], complete: true };
  }
}

function task(patientId: string, m: DemoModule): KoppeltaalTask {
  return {
    id: `${patientId}.${m.key}`,
    status: m.status,
    patientId,
    owner: m.forParent ? `RelatedPerson/rp-${patientId}` : `Patient/${patientId}`,
    definition: `ActivityDefinition/demo-${m.key}`,
    title: m.title,
    description: m.description,
    launchUrl: `https://modules.ggz-demo.test/launch/${m.key}`,
    device: 'Device/demo-module-provider',
    progress: m.progress,
    lastModified: null,
  };
}
