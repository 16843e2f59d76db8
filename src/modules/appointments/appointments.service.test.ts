import 'reflect-metadata';
import { AppointmentWindow } from './appointment.types';
import { byTime } from '../ehr/time-order';
import { inWindow } from './appointments.service';

const at = (start: string, end = start) => ({
  id: start,
  start,
  end,
  type: 'Behandeling',
  online: false,
  source: 'demo',
  clientId: 'c',
  practitionerId: 'demo:p',
});

describe('ordering appointments and reports in time', () => {
  it('orders by the instant, so an offset time sorts where it happens, not where its text would', () => {
    const list = [{ t: '2026-03-01T09:30:00Z' }, { t: '2026-03-01T10:00:00+02:00' }, { t: '2026-02-28' }];
    expect(byTime(list, (x) => x.t, 'asc').map((x) => x.t)).toEqual(['2026-02-28', '2026-03-01T10:00:00+02:00', '2026-03-01T09:30:00Z']);
    expect(byTime(list, (x) => x.t, 'desc').map((x) => x.t)).toEqual(['2026-03-01T09:30:00Z', '2026-03-01T10:00:00+02:00', '2026-02-28']);
  });

  it('shows upcoming appointments soonest first and past ones latest first', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    const list = [at('2026-07-01T09:00:00.000Z'), at('2026-05-01T09:00:00.000Z'), at('2026-06-02T09:00:00.000Z'), at('2026-04-01T09:00:00.000Z')];
    expect(inWindow(list, AppointmentWindow.UPCOMING, now).map((a) => a.start)).toEqual(['2026-06-02T09:00:00.000Z', '2026-07-01T09:00:00.000Z']);
    expect(inWindow(list, AppointmentWindow.PAST, now).map((a) => a.start)).toEqual(['2026-05-01T09:00:00.000Z', '2026-04-01T09:00:00.000Z']);
    expect(inWindow(list, AppointmentWindow.ALL, now)).toHaveLength(4);
  });
});
