/**
 * The target part of the data layer beyond api.ts: portal groups with their ALUA states
 * (api/src/routes/portal-groups.ts), portals placed in a group, discovery CHAP (api/src/routes/targets.ts) and the
 * negotiation parameters (api/src/routes/negotiation.ts). Typed calls over ApiClient.request.
 */
import { forTarget, type ApiClient, type ChapInfo, type ChapSetting, type Portal } from './api.ts';
import type { AluaState, PortalGroup } from '../../api/src/store/types.ts';
import type { NegotiationInfo } from '../../api/src/routes/negotiation.ts';

export type { AluaState, NegotiationInfo, PortalGroup };
export type NegotiationKey = NegotiationInfo['keys'][number];

export class TargetsApi {
  constructor(private readonly api: ApiClient) {}

  portalGroups = (targetId?: number) => this.api.request<PortalGroup[]>('GET', forTarget('/api/portal-groups', targetId));
  createPortalGroup = (targetId: number, tag: number, aluaState?: AluaState) =>
    this.api.request<PortalGroup>('POST', '/api/portal-groups', { targetId, tag, ...(aluaState ? { aluaState } : {}) });
  setAluaState = (id: number, aluaState: AluaState) => this.api.request<PortalGroup>('PATCH', `/api/portal-groups/${id}`, { aluaState });
  deletePortalGroup = (id: number) => this.api.request<void>('DELETE', `/api/portal-groups/${id}`);
  /** a portal in a chosen group (without one the API puts it in the target's lowest tag) */
  createPortal = (targetId: number, address: string, port: number | undefined, portalGroupId: number | undefined) =>
    this.api.request<Portal>('POST', '/api/portals', { targetId, address, ...(port ? { port } : {}), ...(portalGroupId ? { portalGroupId } : {}) });
  deletePortal = (id: number) => this.api.deletePortal(id);

  discoveryChap = async (): Promise<ChapInfo | undefined> => (await this.api.chap()).find((c) => c.targetId === null);
  setDiscoveryChap = (c: ChapSetting) => this.api.request<ChapInfo>('PUT', '/api/chap/discovery', c);
  deleteDiscoveryChap = () => this.api.request<void>('DELETE', '/api/chap/discovery');

  negotiation = () => this.api.request<NegotiationInfo>('GET', '/api/negotiation');
}
