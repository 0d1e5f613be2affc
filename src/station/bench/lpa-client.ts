/**
 * The LPA side of ES10 on one chip (what a repair bench needs): profiles, nicknames,
 * notifications, addresses. Rides on FpaClient's ES10 transport (ISD-R selection, STORE DATA
 * framing, status words), so the bench and the station talk to a chip the same way.
 */
import {
  decodeDeleteProfileResponse,
  decodeDisableProfileResponse,
  decodeEnableProfileResponse,
  encodeDeleteProfileRequest,
  encodeDisableProfileRequest,
  encodeEnableProfileRequest,
  type ProfileId,
} from '../../core/rsp/es10.ts';
import {
  decodeConfiguredAddressesResponse,
  decodeEuiccInfo1,
  decodeListNotificationResponse,
  decodeNotificationSentResponse,
  decodeRetrieveNotificationsListResponse,
  decodeSetNicknameResponse,
  encodeConfiguredAddressesRequest,
  encodeGetEuiccInfo1Request,
  encodeListNotificationRequest,
  encodeNotificationSentRequest,
  encodeRetrieveNotificationsListRequest,
  encodeSetNicknameRequest,
  type RetrieveCriteria,
} from '../../core/rsp/es10-lpa.ts';
import { isIfppError } from '../../core/errors.ts';
import type { Coded } from '../../core/rsp/der.ts';
import { FpaError, type FpaClient } from '../fpa/fpa-client.ts';

export class LpaClient {
  constructor(private readonly fpa: FpaClient) {}

  private async call<T>(what: string, req: Uint8Array, decode: (b: Uint8Array) => T): Promise<T> {
    const bytes = await this.fpa.es10(req, what);
    try {
      return decode(bytes);
    } catch (e) {
      if (!isIfppError(e)) throw e;
      throw new FpaError('FPA_BAD_RESPONSE', `${what}: the chip's answer is malformed: ${e.message}`, { hint: 'a damaged chip, or one that does not implement this SGP.22 function' });
    }
  }

  euiccInfo1() {
    return this.call('GetEuiccInfo1', encodeGetEuiccInfo1Request(), decodeEuiccInfo1);
  }

  enable(id: ProfileId): Promise<Coded<string>> {
    return this.call('EnableProfile', encodeEnableProfileRequest({ profile: id, refreshFlag: false }), decodeEnableProfileResponse);
  }

  disable(id: ProfileId): Promise<Coded<string>> {
    return this.call('DisableProfile', encodeDisableProfileRequest({ profile: id, refreshFlag: false }), decodeDisableProfileResponse);
  }

  delete(id: ProfileId): Promise<Coded<string>> {
    return this.call('DeleteProfile', encodeDeleteProfileRequest(id), decodeDeleteProfileResponse);
  }

  setNickname(iccid: string, nickname: string): Promise<Coded<string>> {
    return this.call('SetNickname', encodeSetNicknameRequest({ iccid, nickname }), decodeSetNicknameResponse);
  }

  listNotifications() {
    return this.call('ListNotification', encodeListNotificationRequest(), decodeListNotificationResponse);
  }

  retrieveNotifications(criteria?: RetrieveCriteria) {
    return this.call('RetrieveNotificationsList', encodeRetrieveNotificationsListRequest(criteria), decodeRetrieveNotificationsListResponse);
  }

  removeNotification(seqNumber: number): Promise<Coded<string>> {
    return this.call('RemoveNotificationFromList', encodeNotificationSentRequest(seqNumber), decodeNotificationSentResponse);
  }

  configuredAddresses() {
    return this.call('EuiccConfiguredAddresses', encodeConfiguredAddressesRequest(), decodeConfiguredAddressesResponse);
  }
}
