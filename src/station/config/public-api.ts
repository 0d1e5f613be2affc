/**
 * `ifpp-station/config`: what a station config module imports from the package (the
 * package.json `exports` map points here), with the input types for editors.
 */
export { defineStation, gridSlots, rowLetter, type GridPosition, type GridSlotsOptions, type InputPinBlock, type OutputPinBlock } from './layout.ts';
export type {
  BoardInput,
  BridgeInput,
  ClampInput,
  GuardInput,
  InputPinInput,
  InputPinSpec,
  LoadingInput,
  OutputPinInput,
  OutputPinSpec,
  PinName,
  SlotInput,
  StartButtonsInput,
  StationConfigInput,
  StationKind,
  TowerLightInput,
} from './schema.ts';
