// The exact report columns asked of lvm2. Explicit fields (never the defaults) so an lvm.conf or a
// newer lvm2 cannot change what we parse; lvm(8) "-o|--options", lvmreport(7) for the JSON formats.
export const PV_FIELDS = [
  'pv_name', 'pv_uuid', 'vg_name', 'pv_fmt', 'pv_size', 'pv_free', 'dev_size', 'pv_attr', 'pv_pe_count',
  'pv_pe_alloc_count',
] as const;

export const VG_FIELDS = [
  'vg_name', 'vg_uuid', 'vg_attr', 'vg_size', 'vg_free', 'vg_extent_size', 'vg_extent_count', 'vg_free_count',
  'pv_count', 'lv_count', 'snap_count', 'vg_missing_pv_count',
] as const;

export const LV_FIELDS = [
  'lv_name', 'vg_name', 'lv_uuid', 'lv_path', 'lv_dm_path', 'lv_attr', 'lv_size', 'segtype', 'pool_lv', 'origin',
  'data_percent', 'metadata_percent', 'lv_metadata_size', 'lv_active', 'lv_device_open', 'lv_merging',
  'lv_when_full', 'lv_time', 'lv_tags', 'lv_health_status',
] as const;

export const LSBLK_ARGS = ['-J', '-b', '-O'] as const;
